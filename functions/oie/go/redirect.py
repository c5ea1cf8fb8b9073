"""Where `/go` may send a recipient: never outside the tenant's domains (no open redirect)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from oie.tenants.models import normalise_host

# Control characters, whitespace and backslashes: browsers "repair" these into other hosts.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """Whether `host` is one of `domains` or a subdomain of one."""
    host = normalise_host(host)
    return any(host == d or host.endswith("." + d) for d in domains)


def is_allowed_url(url: str, domains: Iterable[str]) -> bool:
    """Whether an absolute http(s) URL points at one of the allowed domains."""
    if _UNSAFE.search(url) or _UNSAFE.search(unquote(url)):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return False
    host = parts.hostname if port is None else f"{parts.hostname}:{port}"
    return host_allowed(parts.hostname, domains) or host_allowed(host, domains)


def resolve_target(landing_url: str, to: str | None, domains: Iterable[str]) -> str:
    """The page to send the recipient to: `to` when it is safe and allowed, else the landing."""
    domains = tuple(domains)
    if not to:
        return landing_url
    if _UNSAFE.search(to) or _UNSAFE.search(unquote(to)):
        return landing_url
    is_path = to.startswith("/") and not to.startswith("//")
    candidate = urljoin(landing_url, to) if is_path else to
    return candidate if is_allowed_url(candidate, domains) else landing_url


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` set in its query string, replacing any of the same name."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
