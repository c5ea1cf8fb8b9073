"""Outbound webhooks over HTTPS (plain HTTP only outside production, for local receivers)."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from oie import deadlines
from oie.errors import BackendUnavailable, InputError


class HttpSender:
    """POSTs with no retries of its own (the alerts service retries with back-off across runs).

    `timeout` (default: the caller's `http` budget, oie.deadlines) bounds the connection and
    each read, so a receiver that accepts and never answers costs that long, not forever.
    """

    def __init__(self, allow_http: bool, timeout: float | None = None) -> None:
        self.allow_http = allow_http
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (self.allow_http and scheme == "http"):
            raise InputError(f"webhook URLs must be https: {url}", field="url")
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            timeout = self.timeout if self.timeout is not None else deadlines.seconds("http")
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            raise BackendUnavailable(f"webhook unreachable ({exc}); try again later") from exc
