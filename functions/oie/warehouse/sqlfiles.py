"""Finding `sql/` and reading its files: schema scripts and `-- name:` query blocks."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from oie.warehouse.params import parse_declaration

_NAME = re.compile(r"^--\s*name:\s*([a-z0-9_]+)\s*$", re.MULTILINE)
_PARAMS = re.compile(r"^--\s*params:(.*)$", re.MULTILINE)


def sql_dir() -> Path:
    """`OIE_SQL_DIR`, else `sql/` beside the package (deploy bundle) or at the repo root."""
    if env := os.environ.get("OIE_SQL_DIR"):
        return Path(env)
    here = Path(__file__).resolve().parents[2]  # functions/ in the repo, the bundle root deployed
    for candidate in (here / "sql", here.parent / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no sql/ folder near {here}; set OIE_SQL_DIR")


def schema_files(root: Path | None = None) -> list[Path]:
    """What `oie warehouse migrate` applies, in order: `schema/` (tables, additive changes,
    seed rows), then `views/`, each by file name."""
    base = root or sql_dir()
    return [*sorted((base / "schema").glob("*.sql")), *sorted((base / "views").glob("*.sql"))]


def split_named(text: str) -> dict[str, str]:
    """Split a file into its `-- name: x` blocks."""
    parts = _NAME.split(text)
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@cache
def named_queries(root: Path | None = None) -> dict[str, str]:
    """Every named query in `sql/queries/*.sql` and `sql/jobs/*.sql`, by name."""
    base = root or sql_dir()
    queries: dict[str, str] = {}
    for path in sorted([*base.glob("queries/*.sql"), *base.glob("jobs/*.sql")]):
        for name, body in split_named(path.read_text()).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined twice ({path})")
            queries[name] = body
    return queries


@cache
def declared_params(root: Path | None = None) -> dict[str, dict[str, str] | None]:
    """Each named query's `-- params:` declaration ({} for `-- params:` with none; None when absent)."""
    declared: dict[str, dict[str, str] | None] = {}
    for name, body in named_queries(root).items():
        lines = _PARAMS.findall(body)
        declared[name] = parse_declaration(lines[0]) if lines else None
    return declared
