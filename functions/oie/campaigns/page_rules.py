"""Which class (pricing, case_study, product) a visited page is, by the tenant's page rules.

The rules are the `page_rules` table sessionize uses (the tenant's rows, else the '*'
defaults), matched on the URL's path as `regexp_contains` does. They are cached per
tenant for a few minutes: a rule change reaches signals a little later than sessions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cachetools import TTLCache

from oie.logs import get_logger
from oie.ports import Warehouse

log = get_logger(__name__)
DEFAULT = "*"
# A path several classes match is given the most telling one.
PRECEDENCE = ("pricing", "case_study", "product")
CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class PageRule:
    page_class: str
    pattern: re.Pattern[str]


def chosen_rules(tenant_id: str, rows: Sequence[dict[str, str]]) -> list[PageRule]:
    """The tenant's own rules when it has any, else the defaults; a pattern Python cannot read is skipped."""
    own = [r for r in rows if r["tenant_id"] == tenant_id]
    rules = []
    for row in own or [r for r in rows if r["tenant_id"] == DEFAULT]:
        try:
            rules.append(PageRule(row["page_class"], re.compile(row["path_pattern"])))
        except re.error:
            log.warning("page rule skipped: unreadable pattern", extra={"tenant_id": tenant_id, "rule": dict(row)})
    return rules


def classify(rules: Sequence[PageRule], url: str) -> str | None:
    """The class of the page at `url` (by its path), or None when no rule matches."""
    try:
        path = urlsplit(url).path or "/"
    except ValueError:
        return None
    found = {rule.page_class for rule in rules if rule.pattern.search(path)}
    ranked = [c for c in PRECEDENCE if c in found] + sorted(found - set(PRECEDENCE))
    return ranked[0] if ranked else None


@dataclass
class PageRules:
    """Page rules per tenant from the warehouse (named query `page_rules_of`), cached."""

    warehouse: Warehouse
    ttl: float = CACHE_SECONDS
    _cache: TTLCache[str, list[PageRule]] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._cache = TTLCache(maxsize=1000, ttl=self.ttl)

    def class_of(self, tenant_id: str, url: str) -> str | None:
        """The page class of `url` under `tenant_id`'s rules."""
        with self._lock:
            rules = self._cache.get(tenant_id)
        if rules is None:
            rules = chosen_rules(tenant_id, self.warehouse.query("page_rules_of", {"tenant_id": tenant_id}))
            with self._lock:
                self._cache[tenant_id] = rules
        return classify(rules, url)
