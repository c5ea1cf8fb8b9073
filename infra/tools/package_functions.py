"""Zip functions/ reproducibly and print the archive's sha256.

Same source, same bytes, same hash: entries are sorted and carry a fixed timestamp and
mode, so an unchanged tree never redeploys and a changed one always does.

Usage: python infra/tools/package_functions.py [SOURCE_DIR] [OUT_DIR]
Writes OUT_DIR/functions.zip and OUT_DIR/functions.sha256 (defaults: functions, build).
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

EXCLUDED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _tree(root: Path, prefix: str) -> dict[str, Path]:
    return {
        prefix + path.relative_to(root).as_posix(): path
        for path in root.rglob("*")
        if path.is_file()
        and not EXCLUDED_DIRS.intersection(path.relative_to(root).parts)
        and not path.name.endswith(EXCLUDED_SUFFIXES)
    }


def source_files(source: Path) -> list[tuple[str, Path]]:
    """(name in the archive, file) pairs, sorted by name.

    The warehouse SQL (`sql/` beside `functions/`) is bundled as `sql/` next to
    main.py, where the package looks for it at run time.
    """
    files = _tree(source, "")
    sql = source.parent / "sql"
    if sql.is_dir():
        files.update(_tree(sql, "sql/"))
    return sorted(files.items())


def package(source: Path, out_dir: Path) -> str:
    """Write the archive and its hash file; return the hex sha256."""
    if not (source / "requirements.txt").is_file():
        raise SystemExit(f"{source}/requirements.txt is missing: run `make requirements` first")
    if not (source / "main.py").is_file():
        raise SystemExit(f"{source}/main.py is missing: not a functions source folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / "functions.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in source_files(source):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (out_dir / "functions.sha256").write_text(digest + "\n")
    return digest


if __name__ == "__main__":
    source_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("functions")
    output_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("build")
    print(package(source_dir, output_dir))
