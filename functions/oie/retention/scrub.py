"""Scrubbing one person out of text that also holds other people: raw webhook bodies, others' mail.

A SendGrid delivery is a JSON array of events for many recipients, kept raw for audit.
Erasing one recipient replaces each of their events with a marker that keeps only what is
not about them (the event type), and any other mention of the address with `ERASED`.
"""

from __future__ import annotations

import json
import re
from typing import Any

ERASED = "[erased]"
# Characters that may sit inside an address: a match must not be part of a longer one.
_ADDRESS_CHARS = r"a-z0-9._%+\-"


def address_pattern(email: str) -> str:
    """An RE2 / Python pattern matching the whole address, case-insensitively, never a part of another."""
    return rf"(?i)(^|[^{_ADDRESS_CHARS}]){re.escape(email)}($|[^{_ADDRESS_CHARS}])"


def _mentions(value: Any, email: str, lead_id: str) -> bool:
    text = json.dumps(value, ensure_ascii=False).lower() if not isinstance(value, str) else value.lower()
    return bool(re.search(address_pattern(email), text)) or (bool(lead_id) and lead_id.lower() in text)


def scrub_text(text: str, email: str, lead_id: str = "", full_name: str = "") -> str:
    """The text with the address (any case), the lead id and the full name (any case) replaced."""
    text = re.sub(address_pattern(email), lambda m: f"{m.group(1)}{ERASED}{m.group(2)}", text)
    if full_name:
        # Any run of spaces between the names: mail clients re-wrap and pad them.
        names = r"\s+".join(re.escape(part) for part in full_name.split())
        text = re.sub(rf"(?i)\b{names}\b", ERASED, text)
    return text.replace(lead_id, ERASED) if lead_id else text


def scrub_delivery(raw_body: str, email: str, lead_id: str) -> str:
    """The body with the person's events replaced by markers and any other mention erased."""
    try:
        events = json.loads(raw_body)
    except ValueError:
        return scrub_text(raw_body, email, lead_id)
    if not isinstance(events, list):
        return scrub_text(raw_body, email, lead_id)
    kept: list[Any] = []
    for event in events:
        if isinstance(event, dict) and _mentions(event, email, lead_id):
            kept.append({"event": event.get("event") if isinstance(event.get("event"), str) else None, "erased": True})
        else:
            kept.append(event)
    return scrub_text(json.dumps(kept, separators=(",", ":")), email, lead_id)
