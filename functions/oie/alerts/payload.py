"""Alert bodies (Slack-compatible or generic JSON) and their signature: pure functions."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from oie.tenants.models import AlertChannel

LEVEL_ICON = {"warm": ":large_yellow_circle:", "hot": ":fire:", "burning": ":rotating_light:"}


def describe(alert: dict[str, Any]) -> str:
    """One line a sales rep reads in a second: who, how hot, why, and the lead analysis when there is one."""
    who = alert["lead"].get("name") or alert["lead"].get("email") or alert["lead"]["id"]
    company = alert["lead"].get("company")
    why = alert["components"]
    reasons = ", ".join(f"{k} {v:g}" for k, v in why.items() if v)
    analysis = alert["lead"].get("analysis")  # the planner's lead analysis, when a plan was written
    return (
        f"{who}{f' ({company})' if company else ''} is now {alert['to_level'].upper()} "
        f"— score {alert['score']:g}/100 ({reasons})" + (f". {analysis}" if analysis else "")
    )


def render(channel: AlertChannel, alert: dict[str, Any]) -> bytes:
    """The request body for one channel."""
    if channel.kind == "slack":
        text = f"{LEVEL_ICON.get(alert['to_level'], '')} {describe(alert)}".strip()
        return json.dumps({"text": text}).encode()
    return json.dumps({"type": "lead.level_changed", **alert}, sort_keys=True, default=str).encode()


def signature_headers(key: bytes, alert_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Headers that let a receiver check the sender and drop repeats: HMAC-SHA256 over `ts.body`."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-OIE-Alert-Id": alert_id, "X-OIE-Timestamp": str(timestamp), "X-OIE-Signature": f"v1={mac}"}


def verify(key: bytes, body: bytes, headers: Mapping[str, str]) -> bool:
    """What a receiver does with those headers (used by the local receiver and the tests)."""
    # HTTP header names are case-insensitive; servers hand them over in many spellings.
    lower = {name.lower(): value for name, value in headers.items()}
    timestamp = lower.get("x-oie-timestamp", "")
    if not timestamp.isdigit():
        return False
    expected = signature_headers(key, lower.get("x-oie-alert-id", ""), body, int(timestamp))
    return hmac.compare_digest(expected["X-OIE-Signature"], lower.get("x-oie-signature", ""))
