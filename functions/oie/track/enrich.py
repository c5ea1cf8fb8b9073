"""Server-side enrichment rules: device facts from the user agent, email hashes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

from oie.json_input import is_clean_text

_MOBILE_OS = ("iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS")
# Only this much of a user agent is read (and cached): a header can be far longer.
AGENT_CHARS = 512


@dataclass(frozen=True)
class DeviceFacts:
    browser: str
    browser_version: str
    os: str
    device_type: str  # desktop | mobile | tablet | bot | unknown


def device_facts(user_agent: str) -> DeviceFacts:
    """Browser, OS and device class of a user agent."""
    return parse_agent(user_agent[:AGENT_CHARS])


@lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> DeviceFacts:
    """`device_facts` of an agent already cut to AGENT_CHARS (cached: a site sees few distinct agents)."""
    if not user_agent:
        return DeviceFacts("", "", "", "unknown")
    try:
        result = parse(user_agent)
    except UnicodeEncodeError:
        # The native resolver reads UTF-8: a lone surrogate (never in a real header) becomes "?".
        result = parse(user_agent.encode("utf-8", "replace").decode("utf-8"))
    browser = result.user_agent.family if result.user_agent else ""
    version = result.user_agent.major or "" if result.user_agent else ""
    os_name = result.os.family if result.os else ""
    device = result.device.family if result.device else ""
    if device == "Spider":
        kind = "bot"
    elif device == "iPad" or "Tablet" in device or ("Android" in os_name and "Mobile" not in user_agent):
        kind = "tablet"
    elif os_name in _MOBILE_OS:
        kind = "mobile"
    elif os_name:
        kind = "desktop"
    else:
        kind = "unknown"
    return DeviceFacts(browser, version, os_name, kind)


@dataclass(frozen=True)
class EmailHashes:
    sha256: str
    sha1: str
    md5: str


def email_hashes(raw: str | None) -> EmailHashes | None:
    """Hashes of a normalised email (trimmed, lower-case); the raw value is never stored."""
    email = (raw or "").strip().lower()
    if "@" not in email or len(email) > 320 or not is_clean_text(email):
        return None
    data = email.encode()
    return EmailHashes(
        hashlib.sha256(data).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )
