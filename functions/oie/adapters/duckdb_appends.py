"""Group commit for the DuckDB warehouse: appends that wait for the connection are written together.

DuckDB commits one statement at a time and each commit waits for the disk (an fsync), so
concurrent requests that each append a few rows queue behind one another. The writer that
gets the connection writes every append waiting by then in one statement per table; each
caller still returns only after its own rows are committed, or raises what their write raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oie.ports import Row


@dataclass(eq=False)
class Append:
    """One caller's rows waiting to be appended, and what became of them."""

    table: str
    id_field: str
    rows: Sequence[Row]
    done: bool = False
    error: Exception | None = None


class AppendQueue:
    """The appends no writer has taken yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Append] = []

    def add(self, append: Append) -> None:
        with self._lock:
            self._waiting.append(append)

    def withdraw(self, append: Append) -> bool:
        """Take `append` back if no writer has taken it; whether it was still waiting."""
        with self._lock:
            if append in self._waiting:
                self._waiting.remove(append)
                return True
            return False

    def take(self) -> list[Append]:
        with self._lock:
            taken, self._waiting = self._waiting, []
        return taken


def write_all(appends: Sequence[Append], write: Callable[[str, str, list[Row]], None]) -> None:
    """Write `appends` with one `write` per table and column set; mark each done, with its error."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[Append]] = {}
    for append in appends:
        groups.setdefault((append.table, append.id_field, tuple(append.rows[0])), []).append(append)
    for (table, id_field, _), group in groups.items():
        try:
            write(table, id_field, [row for append in group for row in append.rows])
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:  # one caller's bad row must not fail the others: each alone, once more
                for append in group:
                    try:
                        write(table, id_field, list(append.rows))
                    except Exception as alone:
                        append.error = alone
        for append in group:
            append.done = True


def first_of_each_id(rows: Sequence[Row], id_field: str) -> list[Row]:
    """`rows` with only the first copy of each id (rows without an id all kept)."""
    seen: set[Any] = set()
    unique = []
    for row in rows:
        key = row.get(id_field)
        if key is None or key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
