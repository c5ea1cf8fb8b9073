"""A quick bounds check for /track's hot path; `json_input.problem` gives the exact answer.

`problem` builds the path of every value it visits (so it can say where a fault is), which
costs more than the rest of an event's validation. Almost every batch is fine: this check
says so without paths, and only a batch it cannot vouch for is checked by `problem`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from oie.json_input import MAX_SAFE_INT, Bounds

# What can decode to text `is_clean_text` refuses: NUL and lone surrogates exist in a strictly
# decoded UTF-8 JSON body only as these escapes (a raw NUL is invalid JSON).
_MAYBE_UNCLEAN = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def surely_clean(body: bytes) -> bool:
    """Whether no string decoded from `body` can hold a NUL or a lone surrogate (False: maybe)."""
    return _MAYBE_UNCLEAN.search(body) is None


def within(value: Any, bounds: Bounds, depth: int = 0) -> bool:
    """A quick yes: `value` is inside `bounds`, its text known clean. False means ask `problem`,
    which says where and why; the same limits, without building a path for every value."""
    kind = type(value)
    if kind is str:
        return len(value) <= bounds.string
    if value is None or kind is bool:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INT <= value <= MAX_SAFE_INT)
    if kind is float:
        return math.isfinite(value) and -MAX_SAFE_INT <= value <= MAX_SAFE_INT
    if kind is not dict and kind is not list:
        return False
    if depth >= bounds.depth or len(value) > bounds.items:
        return False
    if kind is list:
        for item in value:  # noqa: SIM110 - a generator per value costs more than the check
            if not within(item, bounds, depth + 1):
                return False
        return True
    for key, item in value.items():
        if type(key) is not str or len(key) > bounds.key or not within(item, bounds, depth + 1):
            return False
    return True
