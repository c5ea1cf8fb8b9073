"""Untrusted JSON: strict decoding, and one bounds check for any decoded value.

Python's `json` accepts what no other system will store: `NaN` and `Infinity`, integers of
thousands of digits, lone UTF-16 surrogates (`"\\ud800"`), nesting until RecursionError.
`loads` refuses what makes a whole body unreadable; `problem` finds the first value out of
bounds inside one part of it (one event), so the caller can refuse that part alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from oie.errors import InputError

# The largest integer every JSON reader (JavaScript included) keeps exactly.
MAX_SAFE_INT = 2**53
# Integers longer than this are decoded as floats (so as infinite or out of range):
# Python refuses to parse more than 4300 digits, and the error would lose the field.
_MAX_INT_DIGITS = 40


@dataclass(frozen=True)
class Bounds:
    """Limits for one decoded value."""

    depth: int = 8
    string: int = 2048
    items: int = 100  # list items and object keys
    key: int = 100
    clean: bool = True  # text must be valid Unicode without NUL (else the caller cleans it)


@dataclass(frozen=True)
class Problem:
    """Where (`a.b[2]`, relative to the value checked) and why a value is out of bounds."""

    path: str
    message: str


def _int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float(text)


def loads(body: bytes, *, field: str = "body") -> Any:
    """Decode a UTF-8 JSON body; InputError naming `field` when it cannot be read at all."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the body is not UTF-8 (byte {exc.start})", field=field) from None
    try:
        # NaN and Infinity still decode (as floats): `problem` refuses them where they are.
        return json.loads(text, parse_int=_int)
    except RecursionError:
        raise InputError("the body is nested too deeply", field=field) from None
    except ValueError as exc:  # JSONDecodeError, and anything else the decoder refuses
        raise InputError(f"the body is not JSON: {exc}", field=field) from None


def is_clean_text(text: str) -> bool:
    """Whether a string is storable: valid Unicode (no lone surrogates) and no NUL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """The string with lone surrogates replaced (U+FFFD) and NULs removed: text kept as evidence."""
    return _SURROGATE.sub("\ufffd", text).replace("\x00", "")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = clean_text(key)[:100]  # a path is reported and stored: never echo broken text
    return f"{path}.{key}" if path else key


DEFAULT_BOUNDS = Bounds()


def problem(value: Any, bounds: Bounds = DEFAULT_BOUNDS, path: str = "") -> Problem | None:
    """The first value inside `value` that is out of bounds, or None when all of it is fine."""
    return _check(value, bounds, path, 0)


def _check(value: Any, bounds: Bounds, path: str, depth: int) -> Problem | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if abs(value) <= MAX_SAFE_INT else Problem(path, f"numbers are at most {MAX_SAFE_INT} in size")
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_SAFE_INT:
            return Problem(path, f"numbers are finite and at most {MAX_SAFE_INT} in size")
        return None
    if isinstance(value, str):
        if bounds.clean and not is_clean_text(value):
            return Problem(path, "text must be valid Unicode without NUL characters")
        if len(value) > bounds.string:
            return Problem(path, f"text is at most {bounds.string} characters")
        return None
    if isinstance(value, (list, dict)):
        if depth >= bounds.depth:
            return Problem(path, f"values nest at most {bounds.depth} levels deep")
        if len(value) > bounds.items:
            return Problem(path, f"at most {bounds.items} items")
        if isinstance(value, list):
            for index, item in enumerate(value):
                if found := _check(item, bounds, _join(path, index), depth + 1):
                    return found
            return None
        for key, item in value.items():
            if (bounds.clean and not is_clean_text(key)) or len(key) > bounds.key:
                return Problem(path, f"keys are valid Unicode of at most {bounds.key} characters")
            if found := _check(item, bounds, _join(path, key), depth + 1):
                return found
        return None
    return Problem(path, f"not a JSON value ({type(value).__name__})")
