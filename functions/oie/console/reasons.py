"""Why a lead is warm, in words, from what the score job stored (never a score recomputed here).

Each phrase comes from one stored component and the counters behind it; phrases are
ordered by how many points their component gave, so the words lead with what weighed
most: "form submitted, pricing page 3 times (shown with a multiplication sign), 2 sessions
this week".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

MAX_PHRASES = 4
TIMES = "\N{MULTIPLICATION SIGN}"  # "pricing page 3" + TIMES
WEEK = timedelta(days=7)


class ScoreFacts(BaseModel):
    """The stored components and counters of one lead_profiles row that the words use."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    frequency_points: float = 0.0
    engagement_points: float = 0.0
    high_intent_points: float = 0.0
    conversion_points: float = 0.0
    sessions: int = 0
    sessions_7d: int | None = None  # null on profiles scored before it was stored
    pageviews: int = 0
    active_minutes: float = 0.0
    pricing_views: int = 0
    case_study_views: int = 0
    product_views: int = 0
    forms_submitted: int = 0
    videos_completed: int = 0
    last_activity_at: datetime | None = None
    level_cap_reason: str | None = None


def _times(count: int, what: str) -> str:
    return f"{what} {count}{TIMES}"


def _count(count: int, one: str, many: str) -> str:
    return one if count == 1 else f"{count} {many}"


def _conversions(f: ScoreFacts) -> list[str]:
    words = []
    if f.forms_submitted:
        words.append(_count(f.forms_submitted, "form submitted", "forms submitted"))
    if f.videos_completed:
        words.append(_count(f.videos_completed, "video watched to the end", "videos watched to the end"))
    return words


def _high_intent(f: ScoreFacts) -> list[str]:
    pages = [
        (f.pricing_views, "pricing page"),
        (f.case_study_views, "case studies"),
        (f.product_views, "product pages"),
    ]
    return [_times(n, what) for n, what in pages if n]


def _frequency(f: ScoreFacts, now: datetime) -> list[str]:
    if f.sessions_7d is not None and f.last_activity_at is not None:
        # sessions_7d counts the 7 days up to the last visit: "this week" only while that is this week.
        recent = now - f.last_activity_at <= WEEK
        when = "this week" if recent else "in the last week active"
        return [f"{_count(f.sessions_7d, '1 session', 'sessions')} {when}"]
    return [_count(f.sessions, "1 session", "sessions")] if f.sessions else []


def _engagement(f: ScoreFacts) -> list[str]:
    minutes = int(f.active_minutes)
    if minutes >= 1:
        return [f"{minutes} min on site"]
    return [_count(f.pageviews, "1 page viewed", "pages viewed")] if f.pageviews else []


def reason_words(facts: ScoreFacts, now: datetime) -> str:
    """The reason a lead scored as it did, for a person to read at a glance."""
    groups = [
        (facts.conversion_points, 0, _conversions(facts)),
        (facts.high_intent_points, 1, _high_intent(facts)),
        (facts.frequency_points, 2, _frequency(facts, now)),
        (facts.engagement_points, 3, _engagement(facts)),
    ]
    # Most points first; a tie keeps the order above (conversions, then high-intent pages …).
    ordered = sorted(groups, key=lambda g: (-g[0], g[1]))
    phrases = [phrase for points, _, words in ordered if points > 0 for phrase in words][:MAX_PHRASES]
    words = ", ".join(phrases) or "no visit counted yet"
    if facts.level_cap_reason:
        # The trust rule: say why a high score shows a lower level (the job names the level held at).
        held = facts.level_cap_reason.rpartition("held at ")[2] or "warm"
        words += f"; held at {held} until a /go click or a verified visit proves who it is"
    return words
