"""Reading a lead CSV: normalise emails, merge duplicates, list bad rows with their line."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from oie.links.models import LeadRecord, RowError

KNOWN_COLUMNS = ("first_name", "last_name", "company", "title")
MAX_FIELD_LENGTH = 2000


@dataclass
class ParsedCsv:
    """The leads of a file in first-seen order, the skipped rows, and the header."""

    leads: list[LeadRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    # normalised email -> original rows (as dicts), for the output file
    rows_by_email: dict[str, list[dict[str, str]]] = field(default_factory=dict)


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


def parse_leads(lines: Iterable[str]) -> ParsedCsv:
    """Parse CSV text lines; the header must name an `email` column."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        raise ValueError("the file is empty: it needs a header row with an email column")
    columns = [name for name in reader.fieldnames if name is not None]
    keys = {name: _header_key(name) for name in columns}
    if "email" not in keys.values():
        raise ValueError(f"no email column in the header (found: {', '.join(columns)})")

    parsed = ParsedCsv(columns=columns)
    merged: dict[str, dict[str, str]] = {}
    lines_of: dict[str, list[int]] = {}
    for row in reader:
        line = reader.line_num
        values = {keys[k]: (v or "").strip() for k, v in row.items() if k in keys}
        too_long = next((k for k, v in values.items() if len(v) > MAX_FIELD_LENGTH), None)
        if too_long:
            parsed.errors.append(RowError(line=line, field=too_long, reason=f"longer than {MAX_FIELD_LENGTH}"))
            continue
        try:
            email = normalise_email(values.get("email", ""))
        except ValueError as exc:
            parsed.errors.append(RowError(line=line, reason=str(exc)))
            continue
        values["email"] = email
        # A later duplicate fills fields the earlier row left empty; it never blanks one.
        target = merged.setdefault(email, {})
        for key, value in values.items():
            if value and not target.get(key):
                target[key] = value
        lines_of.setdefault(email, []).append(line)
        parsed.rows_by_email.setdefault(email, []).append({k: v or "" for k, v in row.items()})

    for email, values in merged.items():
        attributes = {k: v for k, v in values.items() if k not in (*KNOWN_COLUMNS, "email") and v}
        parsed.leads.append(
            LeadRecord(
                email=email,
                attributes=attributes,
                lines=tuple(lines_of[email]),
                **{k: values.get(k, "") for k in KNOWN_COLUMNS},
            )
        )
    return parsed
