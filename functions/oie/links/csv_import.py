"""Reading a lead CSV: normalise emails, merge duplicates, list bad rows with their line."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email

from oie.links.models import LeadRecord, RowError

KNOWN_COLUMNS = ("first_name", "last_name", "company", "title")
# Columns the output file writes itself; an input that has them (a links.csv fed back in) loses them.
OUTPUT_COLUMNS = ("tracking_id", "tracking_url")
MAX_FIELD_LENGTH = 2000


@dataclass
class ParsedCsv:
    """The leads of a file in first-seen order, the skipped rows, and the header."""

    leads: list[LeadRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The header's columns the output file repeats (all but OUTPUT_COLUMNS).
    columns: list[str] = field(default_factory=list)
    # normalised email -> the lead's row for the output file: its columns merged like the
    # lead (a later duplicate fills blanks) and its email normalised
    rows_by_email: dict[str, dict[str, str]] = field(default_factory=dict)
    rows_read: int = 0
    # Rows that were folded into an earlier row with the same email.
    duplicates_merged: int = 0


def normalise_email(raw: str) -> str:
    """Trim and lower-case an email, then check its syntax (no DNS look-up)."""
    email = raw.strip().lower()
    if not email:
        raise ValueError("email is empty")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"email is malformed: {exc}") from None
    return email


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _row_error(line: int, row: Mapping[Any, Any], width: int) -> RowError | None:
    """What makes a row unusable as a whole, before its values are looked at."""
    extra = row.get(None)
    if isinstance(extra, list) and extra:
        # Likely an unquoted comma ("Acme, Inc"): the values after it would land in the wrong columns.
        return RowError(
            line=line,
            field="columns",
            reason=f"{width + len(extra)} values for {width} columns (quote values that contain commas)",
        )
    return None


class LeadSink(Protocol):
    """Where checked rows go: merged by email, in first-seen order (memory, or a spool on disk)."""

    def add(self, email: str, cells: dict[str, str], line: int) -> bool:
        """Keep a row's non-empty cells; True when it was merged into an earlier row of that email."""
        ...


@dataclass
class CsvSummary:
    """What reading a file found besides its leads."""

    # The header's columns the output file repeats (all but OUTPUT_COLUMNS).
    columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    duplicates_merged: int = 0


def read_rows(lines: Iterable[str], sink: LeadSink) -> CsvSummary:
    """Check every row of CSV text lines (the header must name an `email` column); good rows go to `sink`."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        raise ValueError("the file is empty: it needs a header row with an email column")
    header = [name for name in reader.fieldnames if name is not None]
    keys = {name: _header_key(name) for name in header}
    if "email" not in keys.values():
        raise ValueError(f"no email column in the header (found: {', '.join(header)})")
    seen: dict[str, str] = {}
    for name, key in keys.items():
        if key in seen:
            raise ValueError(f"the header names one column twice: {seen[key]!r} and {name!r}")
        seen[key] = name
    email_column = seen["email"]

    summary = CsvSummary(columns=[n for n in header if keys[n] not in OUTPUT_COLUMNS])
    for row in reader:
        line = reader.line_num
        summary.rows_read += 1
        if (error := _row_error(line, row, len(header))) is not None:
            summary.errors.append(error)
            continue
        cells = {name: (row.get(name) or "").strip() for name in header}
        too_long = next((name for name, v in cells.items() if len(v) > MAX_FIELD_LENGTH), None)
        if too_long:
            summary.errors.append(RowError(line=line, field=keys[too_long], reason=f"longer than {MAX_FIELD_LENGTH}"))
            continue
        try:
            email = normalise_email(cells[email_column])
        except ValueError as exc:
            summary.errors.append(RowError(line=line, reason=str(exc)))
            continue
        cells[email_column] = email
        kept = {name: value for name, value in cells.items() if value and keys[name] not in OUTPUT_COLUMNS}
        summary.duplicates_merged += sink.add(email, kept, line)
    return summary


def merge_cells(target: dict[str, str], cells: Mapping[str, str]) -> None:
    """A later duplicate fills fields the earlier row left empty; it never blanks one."""
    for name, value in cells.items():
        if value and not target.get(name):
            target[name] = value


def lead_of(email: str, cells: Mapping[str, str], lines: Iterable[int]) -> LeadRecord:
    """The lead a (merged) row stands for."""
    values = {_header_key(name): value for name, value in cells.items()}
    attributes = {k: v for k, v in values.items() if k not in (*KNOWN_COLUMNS, *OUTPUT_COLUMNS, "email") and v}
    return LeadRecord(
        email=email,
        attributes=attributes,
        lines=tuple(lines),
        **{k: values.get(k, "") for k in KNOWN_COLUMNS},
    )


class _Merged:
    def __init__(self) -> None:
        self.cells: dict[str, dict[str, str]] = {}
        self.lines: dict[str, list[int]] = {}

    def add(self, email: str, cells: dict[str, str], line: int) -> bool:
        merged = email in self.cells
        merge_cells(self.cells.setdefault(email, {}), cells)
        self.lines.setdefault(email, []).append(line)
        return merged


def parse_leads(lines: Iterable[str]) -> ParsedCsv:
    """Parse CSV text lines into memory; the header must name an `email` column.

    Reads the whole file and touches nothing else: the import writes only once this
    has said which rows are good. (`oie campaign create` spools to disk instead: oie.links.spool.)
    """
    merged = _Merged()
    summary = read_rows(lines, merged)
    parsed = ParsedCsv(
        errors=summary.errors,
        columns=summary.columns,
        rows_read=summary.rows_read,
        duplicates_merged=summary.duplicates_merged,
    )
    for email, by_column in merged.cells.items():
        parsed.leads.append(lead_of(email, by_column, merged.lines[email]))
        parsed.rows_by_email[email] = {name: by_column.get(name, "") for name in parsed.columns}
    return parsed
