"""How every `oie` command answers: a table for people, JSON with `--json`, one-line errors.

Exit codes, the same for every command (a command may add its own, e.g. `campaign create`):
0 done · 1 failed, the message says why · 2 wrong usage (click) · 69 the local stack or a
backend is not reachable (sysexits' EX_UNAVAILABLE): nothing was done, start it and retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from oie.errors import BackendUnavailable, OieError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 69
_JSON = "oie.json"
F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """A failed command: one line on stderr, or `{"error": …}` on stdout with `--json`."""

    def __init__(self, message: str, *, code: str = "failed", field: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message + (f" [{field}]" if field else ""))
        self.exit_code = exit_code
        self.error = {"code": code, "message": message, "field": field}
        self.as_json = wants_json()

    def show(self, file: Any = None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": self.error}))
        else:
            click.echo(f"Error: {self.format_message()}", err=True)


def unavailable(message: str) -> CommandError:
    return CommandError(message, code="unavailable", exit_code=EXIT_UNAVAILABLE)


def fail(error: OieError, *, exit_code: int | None = None, hint: str = "") -> NoReturn:
    """Turn a service's error into the command's answer and exit code (69 for a backend that is down)."""
    if isinstance(error, BackendUnavailable):
        raise unavailable(error.message + (f" ({hint})" if hint else "")) from error
    raise CommandError(
        error.message, code=error.code, field=error.field, exit_code=EXIT_FAILED if exit_code is None else exit_code
    ) from error


class OieGroup(click.Group):
    """A command group whose commands' service errors become one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OieError as exc:
            fail(exc)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_JSON] = True


def json_option(command: F) -> F:
    """`--json`: answer in JSON (for scripts) instead of a table."""
    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Answer in JSON instead of a table.",
    )(command)


def wants_json() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_JSON))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=_plain, separators=(",", ":")) if value else ""
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned columns under upper-case headers (`CURRENT NODE`), like `docker ps`."""
    head = [c.replace("_", " ").upper() for c in columns]
    body = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(head, *body, strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [head, *body]
    )


def emit(
    data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    summary: str | None = None,
) -> None:
    """Print a command's answer: rows as a table (or one record as `field value` lines) and a
    summary line; with `--json` the data alone, as JSON."""
    if wants_json():
        click.echo(json.dumps(data, default=_plain, indent=2, ensure_ascii=False))
        return
    if isinstance(data, Mapping):
        record = {k: v for k, v in data.items() if columns is None or k in columns}
        width = max((len(k) for k in record), default=0)
        lines = [f"{k.replace('_', ' ').ljust(width)}  {_cell(v)}".rstrip() for k, v in record.items()]
        if lines:
            click.echo("\n".join(lines))
    elif data:
        click.echo(table(data, columns or list(data[0])))
    if summary:
        click.echo(summary)


def note(message: str) -> None:
    """A remark for the person at the terminal (stderr, so `--json` output stays clean)."""
    click.echo(message, err=True)
