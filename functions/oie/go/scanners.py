"""Telling email security scanners from people at click time.

Scanners (Microsoft Safe Links, Proofpoint, Mimecast, Barracuda …) open every link
before the recipient does. What is visible in one request is judged here; patterns
across requests (bursts over every link of a message, clicks seconds after delivery)
are judged in SQL over `email_clicks`, and the pixel later *verifies* human clicks.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_SCANNER_AGENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "microsoft_safe_links",
            r"BingPreview|Microsoft Office|MSOffice|ms-office|Outlook-iOS-Android",
        ),
        ("barracuda", r"Barracuda"),
        ("mimecast", r"Mimecast"),
        ("proofpoint", r"Proofpoint|ppops"),
        ("symantec", r"Symantec|Norton"),
        ("cisco", r"Cisco|IronPort"),
        ("trend_micro", r"Trend ?Micro"),
        ("forcepoint", r"Forcepoint|Websense"),
        ("headless_browser", r"HeadlessChrome|PhantomJS|Electron/|Puppeteer|Playwright"),
        (
            "http_library",
            r"^(python-|curl/|Wget/|Go-http-client|Java/|okhttp|libwww|axios/|node-fetch)",
        ),
        (
            "link_preview",
            r"Slackbot|facebookexternalhit|Twitterbot|LinkedInBot|WhatsApp|TelegramBot|Discordbot|SkypeUriPreview",
        ),
        ("crawler", r"bot\b|crawler|spider|scanner|preview|fetcher"),
    )
)


@dataclass(frozen=True)
class Verdict:
    """Whether a click is a bot's, and every reason found."""

    is_bot: bool
    reasons: tuple[str, ...]


@lru_cache(maxsize=1)
def _scanner_networks() -> tuple[tuple[str, int, int, int], ...]:
    """(provider, IP version, network address, netmask) as integers: a look-up is a few int compares."""
    text = resources.files("oie.go").joinpath("scanner_networks.txt").read_text()
    networks = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            provider, cidr = line.split()
            network = ipaddress.ip_network(cidr)
            networks.append((provider, network.version, int(network.network_address), int(network.netmask)))
    return tuple(networks)


def scanner_network(ip: str | None) -> str | None:
    """The scanner provider whose published network holds `ip`, if any."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    value, version = int(address), address.version
    for provider, net_version, network, mask in _scanner_networks():
        if version == net_version and value & mask == network:
            return provider
    return None


# Agents longer than this are judged afresh each time rather than cached (bounded memory).
_CACHED_AGENT_CHARS = 512


@lru_cache(maxsize=4096)
def _agent_reason(user_agent: str) -> str | None:
    # A dozen case-insensitive searches cost ~50 us per agent: cached, since a site sees few agents.
    for name, pattern in _SCANNER_AGENTS:
        if pattern.search(user_agent):
            return f"user_agent:{name}"
    return None


def _judge(head: bool, user_agent: str, ip: str | None) -> Verdict:
    reasons = []
    if head:
        reasons.append("head_request")
    if not user_agent.strip():
        reasons.append("no_user_agent")
    agent = (
        _agent_reason(user_agent) if len(user_agent) <= _CACHED_AGENT_CHARS else _agent_reason.__wrapped__(user_agent)
    )
    if agent:
        reasons.append(agent)
    provider = scanner_network(ip)
    if provider:
        reasons.append(f"network:{provider}")
    return Verdict(is_bot=bool(reasons), reasons=tuple(reasons))


# A visitor's requests repeat the same agent and address: one verdict (immutable) serves them all,
# without parsing the address again.
_cached_judge = lru_cache(maxsize=4096)(_judge)


def classify(method: str, user_agent: str, ip: str | None) -> Verdict:
    """Judge one `/go` request from its method, user agent and client address."""
    head = method.upper() == "HEAD"
    if len(user_agent) > _CACHED_AGENT_CHARS:
        return _judge(head, user_agent, ip)
    return _cached_judge(head, user_agent, ip)
