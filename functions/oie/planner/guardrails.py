"""Checks on a model-written plan beyond the plan validator: business rules, facts, links, limits.

All pure functions over the plan and the text of its input. Each problem is (field, message),
like the plan validator's, so the repair prompt can name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from oie.campaigns import templating
from oie.campaigns.plan import EmailTemplate, Plan, SendNode

MAX_SUBJECT = 120
MAX_TEXT = 1500
MAX_SENDS = 8
# Placeholders the model may write; the engine adds the unsubscribe link and footer itself.
MODEL_PLACEHOLDERS = frozenset(
    {"first_name", "last_name", "full_name", "company", "title", "sender_name", "tracking_link"}
)
# Words capitalised for grammar, not because they name someone (checked only mid-sentence).
COMMON_CAPITALS = frozenset(
    {"i", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    | {"january", "february", "march", "april", "may", "june", "july", "august"}
    | {"september", "october", "november", "december"}
)

_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
_FIGURE = re.compile(
    r"(?<![\w.,])(?P<cur>[$€£¥])?\s?(?P<num>\d+(?:[.,]\d+)*)(?P<unit>\s?(?:%|percent\b|[kKmM]\b|[xX]\b|bn\b))?"
)
_WORD = re.compile(r"[A-Za-z][\w&'\u2019-]*")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$|^\s*$|\n\s*$")
_LINK = re.compile(r"https?://|\bwww\.|\b[a-z0-9-]+\.(?:com|io|net|org|co|ai|app|dev|eu|uk|de)\b", re.IGNORECASE)
_UNSUBSCRIBE = re.compile(r"\bunsubscrib\w*|\bopt[- ]?out\b", re.IGNORECASE)


def _figure_key(match: re.Match[str]) -> str:
    number = match.group("num").replace(",", "")
    unit = (match.group("unit") or "").strip().lower().replace("percent", "%")
    return f"{match.group('cur') or ''}{number}{unit}"


def figures(text: str) -> set[str]:
    """Numbers in a text, normalised with their currency and unit: `$1,200` is `$1200`, `40 %` is `40%`."""
    return {_figure_key(m) for m in _FIGURE.finditer(_PLACEHOLDER.sub(" ", text))}


_APOSTROPHES = "'\u2019"
_TOKEN = re.compile(r"[\w&'\u2019-]+")


def _bare(word: str) -> str:
    return re.sub(r"['\u2019]s$", "", word).strip(_APOSTROPHES + "-&").lower()


def names(text: str) -> list[str]:
    """Capitalised words that may name a person, company or product.

    A sentence's first word is capitalised by grammar, so it counts only when it looks like a
    brand (`HubSpot`, `eBay`); the words after it are checked as usual (`Goldman Sachs` is
    caught by `Sachs`). A one-word name opening a sentence is the known blind spot.
    """
    text = _PLACEHOLDER.sub(" … ", text)
    found: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        inner_capital = any(c.isupper() for c in word[1:]) and not word.isupper()
        if not (word[0].isupper() or inner_capital) or _bare(word) in COMMON_CAPITALS:
            continue
        if _SENTENCE_END.search(text[: match.start()]) and not inner_capital:
            continue
        found.append(word)
    return found


def corpus_words(texts: Iterable[str]) -> set[str]:
    """The words of the input, lower-cased (for comparing names case-insensitively)."""
    words = {_bare(w) for text in texts for w in _TOKEN.findall(text)}
    return words | {part for w in words for part in re.split(r"[-&]", w) if part}


def unsupported_facts(text: str, inputs: Iterable[str]) -> list[str]:
    """Figures and names in `text` that appear nowhere in `inputs` (what the model would have invented)."""
    sources = list(inputs)
    known_figures = set().union(*(figures(s) for s in sources)) if sources else set()
    known_words = corpus_words(sources)
    invented = [f for f in sorted(figures(text)) if f not in known_figures]
    for name in names(text):
        parts = [p for p in re.split(r"[-&]", _bare(name)) if p]
        if _bare(name) not in known_words and not all(p in known_words for p in parts):
            invented.append(name)
    return list(dict.fromkeys(invented))


def check_copy(field: str, text: str, inputs: list[str], banned: Iterable[str], limit: int) -> list[tuple[str, str]]:
    """Problems with one piece of model-written copy (a subject, a text, the lead analysis)."""
    problems: list[tuple[str, str]] = []
    if len(text) > limit:
        problems.append((field, f"{len(text)} characters; at most {limit}"))
    prose = _PLACEHOLDER.sub(" ", text)
    if _LINK.search(prose):
        problems.append((field, "no links or web addresses: write {{tracking_link}}; the engine adds the rest"))
    if _UNSUBSCRIBE.search(prose):
        problems.append((field, "no unsubscribe text: the engine adds the footer and the unsubscribe link"))
    try:
        used = set(templating.placeholders(text))
    except templating.TemplateError as exc:
        used = set()
        problems.append((field, str(exc)))
    for name in sorted(used - MODEL_PLACEHOLDERS):
        problems.append((field, f"placeholder {{{{{name}}}}} is not for the model to write"))
    lowered = text.lower()
    for phrase in banned:
        if phrase.lower() in lowered:
            problems.append((field, f"uses the banned phrase {phrase!r}"))
    invented = unsupported_facts(text, inputs)
    if invented:
        problems.append((field, "facts not in the input: " + ", ".join(invented[:10])))
    return problems


def check_rules(plan: Plan, template: Plan) -> list[tuple[str, str]]:
    """The business rules every model-written plan keeps (the tenant's settings stay the tenant's)."""
    problems: list[tuple[str, str]] = []
    sends = [n for n in plan.nodes if isinstance(n, SendNode)]
    if not sends:
        problems.append(("plan.nodes", "a plan needs at least one send node"))
    if len(sends) > MAX_SENDS:
        problems.append(("plan.nodes", f"{len(sends)} send nodes; at most {MAX_SENDS}"))
    if not plan.stop_on_reply:
        problems.append(("plan.stopOnReply", "a reply always stops the campaign: keep stopOnReply true"))
    if plan.timezone != template.timezone:
        problems.append(("plan.timezone", f"keep the template's timezone {template.timezone!r}"))
    if plan.quiet_hours != template.quiet_hours:
        problems.append(("plan.quietHours", "keep the template's quiet hours"))
    return problems


def check_plan(plan: Plan, template: Plan, inputs: list[str], banned: Iterable[str]) -> list[tuple[str, str]]:
    """Every problem of a model-written plan: business rules, then each send node's copy."""
    banned = list(banned)
    problems = check_rules(plan, template)
    for index, node in enumerate(plan.nodes):
        if not isinstance(node, SendNode):
            continue
        for where, template_copy in _copies(node):
            field = f"plan.nodes[{index}].{where}"
            if template_copy.html is not None:
                problems.append((f"{field}.html", "no HTML: the engine renders the text"))
            problems += check_copy(f"{field}.subject", template_copy.subject, inputs, banned, MAX_SUBJECT)
            problems += check_copy(f"{field}.text", template_copy.text, inputs, banned, MAX_TEXT)
    return problems


def _copies(node: SendNode) -> list[tuple[str, EmailTemplate]]:
    """Each email copy of a send node: its template, and its variants' when the plan has them."""
    found: list[tuple[str, EmailTemplate]] = []
    if isinstance(node.template, EmailTemplate):
        found.append(("template", node.template))
    for v_index, variant in enumerate(node.variants or ()):
        if isinstance(variant.template, EmailTemplate):
            found.append((f"variants[{v_index}].template", variant.template))
    return found
