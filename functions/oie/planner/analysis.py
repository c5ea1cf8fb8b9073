"""The lead analysis: a short summary of a lead's intent for the sales rep.

The model writes one with each plan; `summarize` writes one from the stored evidence alone,
deterministically, when no model ran (a fallback, an exhausted budget).
"""

from __future__ import annotations

from oie.planner.inputs import Evidence

MAX_LENGTH = 280
_CLASS_NAMES = {"pricing": "pricing", "case_study": "case studies", "product": "product pages"}


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def summarize(evidence: Evidence) -> str:
    """A one-line summary from the evidence only: level, what was read, email engagement."""
    parts: list[str] = []
    if evidence.level:
        parts.append(f"{evidence.level.capitalize()} (score {evidence.score:.0f})")
    if evidence.sessions:
        visit = f", last {evidence.last_visit_at:%Y-%m-%d}" if evidence.last_visit_at else ""
        parts.append(f"{evidence.sessions} session{'s' if evidence.sessions != 1 else ''}{visit}")
    read = [
        f"read {label} {_times(count)}"
        for label, count in (
            ("pricing", evidence.pricing_views),
            ("case studies", evidence.case_study_views),
            ("product pages", evidence.product_views),
        )
        if count
    ]
    if not read:
        by_class: dict[str, int] = {}
        for page in evidence.pages:
            if page.page_class in _CLASS_NAMES:
                by_class[page.page_class] = by_class.get(page.page_class, 0) + page.views
        read = [f"read {_CLASS_NAMES[c]} {_times(n)}" for c, n in by_class.items()]
    parts += read
    if evidence.forms_submitted:
        parts.append(f"submitted {evidence.forms_submitted} form{'s' if evidence.forms_submitted != 1 else ''}")
    email = evidence.email
    if email.sent or email.opened or email.clicked or email.replied:
        engaged = [f"{n} {what}" for what, n in (("opened", email.opened), ("clicked", email.clicked)) if n]
        engaged += ["replied"] if email.replied else []
        parts.append(f"emails: {email.sent} sent" + (", " + ", ".join(engaged) if engaged else ", no reaction"))
    if not parts:
        return "No site visits or email engagement recorded yet."
    return clip("; ".join(parts) + ".")


def clip(text: str, limit: int = MAX_LENGTH) -> str:
    """At most `limit` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;") + "…"
