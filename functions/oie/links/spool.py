"""An import's leads on disk (SQLite), so a file of any size is checked and imported in flat memory.

Rows are merged by email as `parse_leads` merges them, kept in first-seen order, read back
in chunks, and the link the plan picked for each lead is stored beside it until the write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from oie.links.csv_import import CsvSummary, ParsedCsv, lead_of, merge_cells, read_rows
from oie.links.models import LeadRecord

_SCHEMA = """
create table leads (
    seq integer primary key,
    email text not null unique,
    cells text not null,
    lines text not null,
    lead_id text,
    tracking_id text,
    link_created_at text
)
"""


@dataclass(frozen=True)
class SpooledLead:
    """One lead with its output row and, once planned, its ids (and the stored link's creation time)."""

    seq: int
    lead: LeadRecord
    row: dict[str, str]
    lead_id: str | None
    tracking_id: str | None
    link_created_at: datetime | None


class LeadSpool:
    """Leads in SQLite (a file, or memory for small imports): `add` merges, `chunks` reads back in order."""

    def __init__(self, path: Path | str = ":memory:", summary: CsvSummary | None = None) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode = off")
        self._db.execute("pragma synchronous = off")
        self._db.execute("pragma cache_size = -16000")  # 16 MB of page cache: the memory bound
        self._db.execute(_SCHEMA)
        self._db.execute("begin")
        self._count = 0
        self.summary = summary or CsvSummary()

    @classmethod
    def read(cls, lines: Iterable[str], path: Path | str = ":memory:") -> LeadSpool:
        """Check a CSV's rows (oie.links.csv_import.read_rows) into a new spool."""
        spool = cls(path)
        try:
            spool.summary = read_rows(lines, spool)
        except BaseException:
            spool.close()
            raise
        return spool

    @classmethod
    def of(cls, parsed: ParsedCsv) -> LeadSpool:
        """A spool in memory holding what `parse_leads` read."""
        spool = cls(
            summary=CsvSummary(parsed.columns, parsed.errors, parsed.rows_read, parsed.duplicates_merged),
        )
        for lead in parsed.leads:
            cells = {k: v for k, v in parsed.rows_by_email[lead.email].items() if v}
            spool._insert(lead.email, cells, list(lead.lines))
        return spool

    def add(self, email: str, cells: dict[str, str], line: int) -> bool:
        """Keep a row (oie.links.csv_import.LeadSink); True when it merged into an earlier one."""
        found = self._db.execute("select cells, lines from leads where email = ?", (email,)).fetchone()
        if found is None:
            self._insert(email, cells, [line])
            return False
        merged: dict[str, str] = json.loads(found[0])
        merge_cells(merged, cells)
        self._db.execute(
            "update leads set cells = ?, lines = ? where email = ?",
            (json.dumps(merged), json.dumps([*json.loads(found[1]), line]), email),
        )
        return True

    def _insert(self, email: str, cells: dict[str, str], lines: list[int]) -> None:
        self._db.execute(
            "insert into leads (email, cells, lines) values (?, ?, ?)", (email, json.dumps(cells), json.dumps(lines))
        )
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def chunks(self, size: int) -> Iterator[list[SpooledLead]]:
        """Every lead in first-seen order, `size` at a time (each chunk read when asked for)."""
        after = 0
        columns = self.summary.columns
        while True:
            rows = self._db.execute(
                "select seq, email, cells, lines, lead_id, tracking_id, link_created_at from leads "
                "where seq > ? order by seq limit ?",
                (after, size),
            ).fetchall()
            if not rows:
                return
            chunk = []
            for seq, email, cells_json, lines_json, lead_id, tracking_id, created in rows:
                cells = json.loads(cells_json)
                chunk.append(
                    SpooledLead(
                        seq,
                        lead_of(email, cells, json.loads(lines_json)),
                        {name: cells.get(name, "") for name in columns},
                        lead_id,
                        tracking_id,
                        datetime.fromisoformat(created) if created else None,
                    )
                )
            yield chunk
            after = rows[-1][0]

    def pick(self, picks: Sequence[tuple[int, str, str, datetime | None]]) -> None:
        """Store each lead's ids: (seq, lead id, tracking id, the stored link's creation time or None if new)."""
        self._db.executemany(
            "update leads set lead_id = ?, tracking_id = ?, link_created_at = ? where seq = ?",
            [(lead, link, at.isoformat() if at else None, seq) for seq, lead, link, at in picks],
        )

    def close(self) -> None:
        self._db.close()
