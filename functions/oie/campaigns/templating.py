"""A deliberately small template language: `{{first_name}}` or `{{first_name|there}}`.

Only names on an allow-list exist; nothing is evaluated, so a template can never reach
beyond the contact's own fields. Values are HTML-escaped in HTML parts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

# The contact's fields and the links every email carries.
PLACEHOLDERS = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "company",
        "title",
        "email",
        "tracking_link",
        "unsubscribe_link",
        "sender_name",
        "sender_email",
    }
)
_TAG = re.compile(r"\{\{\s*([^{}|]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\}")
_STRAY = re.compile(r"\{\{|\}\}")


class TemplateError(ValueError):
    pass


def placeholders(template: str) -> list[str]:
    """The names a template uses; raises TemplateError for unknown names or stray braces."""
    names = [m.group(1) for m in _TAG.finditer(template)]
    for name in names:
        if name not in PLACEHOLDERS:
            allowed = ", ".join(sorted(PLACEHOLDERS))
            raise TemplateError(f"unknown placeholder {{{{{name}}}}} (allowed: {allowed})")
    if _STRAY.search(_TAG.sub("", template)):
        raise TemplateError("unbalanced '{{' or '}}'")
    return names


def render(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Fill a template; a blank value takes the tag's fallback (`{{first_name|there}}`)."""
    placeholders(template)

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "") or (match.group(2) or "")
        return html.escape(value) if escape else value

    return _TAG.sub(fill, template)
