"""Intent signals as the engine sees them, and which plan transition (or stop rule) one matches.

Pure: `engine.on_signal` applies them to a contact campaign. URL patterns are globs matched
by a small two-pointer matcher, never compiled to a regular expression, so a tenant's pattern
cannot make matching slow (at most pattern length x path length steps, both bounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.plan import Transition
from oie.outcomes.models import DEFAULT_OUTCOME_TYPES

LEVEL_RANK = {"cold": 0, "warm": 1, "hot": 2, "burning": 3}
# Outcomes of these stages say nothing about the contact's interest yet: the campaign goes on.
GOING_ON = frozenset({"top_of_funnel"})


@dataclass(frozen=True)
class Signal:
    """One contracts.IntentSignal, reduced to what the engine decides on."""

    key: str
    type: str
    occurred_at: datetime
    url: str | None = None
    page_class: str | None = None
    level: str | None = None
    outcome: str | None = None
    stage: str | None = None

    @classmethod
    def of(cls, signal: IntentSignal) -> Signal:
        return cls(
            key=signal.signal_key,
            type=signal.type,
            occurred_at=signal.occurred_at,
            url=signal.url,
            page_class=signal.page_class,
            level=signal.level,
            outcome=signal.outcome,
            stage=signal.stage,
        )

    def describe(self) -> str:
        """A short reason for the transition record: `page_visit pricing /pricing`, `outcome closed_won`."""
        detail = {
            "page_visit": " ".join(p for p in (self.page_class, url_path(self.url) if self.url else "") if p),
            "intent_level": self.level or "",
            "outcome": self.outcome or "",
        }.get(self.type, "")
        return f"{self.type} {detail}".strip()


def stage_of(signal: Signal) -> str | None:
    """The outcome's stage as the outcomes service sent it, else the default stage of its type."""
    if signal.stage:
        return signal.stage
    return DEFAULT_OUTCOME_TYPES.get(signal.outcome or "")


def ends_campaign(signal: Signal) -> bool:
    """An outcome past the top of the funnel (appointment, won, lost, invalid) ends the campaign."""
    stage = stage_of(signal)
    return signal.type == "outcome" and stage is not None and stage not in GOING_ON


def matches(transition: Transition, signal: Signal) -> bool:
    """The transition is on this signal's type and its filter (if any) holds; timing is the engine's."""
    if transition.on != signal.type:
        return False
    if signal.type == "page_visit":
        if transition.page is not None:
            return signal.page_class == transition.page
        pattern = transition.url_pattern
        return pattern is not None and signal.url is not None and glob(pattern, signal.url)
    if signal.type == "intent_level":
        wanted = LEVEL_RANK.get(transition.level or "", len(LEVEL_RANK))
        return LEVEL_RANK.get(signal.level or "", -1) >= wanted
    if signal.type == "outcome":
        return signal.outcome == transition.outcome
    return True


def url_path(url: str) -> str:
    """The path of a URL (or of a bare path), lower-case, without a trailing slash; `/` for none."""
    path = urlsplit(url).path.lower() if "://" in url or url.startswith("/") else "/" + url.lower()
    return path.rstrip("/") or "/"


def glob(pattern: str, url: str) -> bool:
    """Whether the URL's path matches the pattern: `*` is any run of characters (`/` included).

    Case-insensitive, query and fragment ignored, a trailing slash on either side ignored.
    """
    return _wildcard(pattern.lower().rstrip("/") or "/", url_path(url))


def _wildcard(pattern: str, text: str) -> bool:
    # Greedy match that backtracks only to the last `*`: linear in practice, p*t at worst.
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p] == text[t]:
            p += 1
            t += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            t = resume
        else:
            return False
    return all(c == "*" for c in pattern[p:])
