"""The plumbing of the local CRM servers (oie.devstack.crm_servers): one in-memory HTTP server each.

Each server records every request (method, path, query, JSON body) for the tests, answers
`GET /_local/state` with the contacts and notes written, and hands the rest to its
subclass's `route`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, Any]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class CrmServer:
    """One fake CRM on 127.0.0.1; subclasses route requests to their handlers."""

    token: str = "local-crm-token"
    requests: list[Seen] = field(default_factory=list)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    limited: int = 0
    _ids: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        """Subclasses set up their own state here."""

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = owner.handle(self.command, self.path, raw, dict(self.headers.items()))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def limit_next(self, count: int) -> None:
        """Answer the next `count` API requests with the CRM's rate-limit error."""
        self.limited = count

    def new_id(self) -> str:
        self._ids += 1
        return str(1000 + self._ids)

    def handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Answer:
        parts = urlsplit(target)
        ctype = headers.get("Content-Type", "")
        if raw and "json" in ctype:
            body: Any = json.loads(raw)
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()} if raw else None
        with self._lock:
            if method == "GET" and parts.path == "/_local/state":
                # What a person running `make run` looks at: the contacts and notes the engine wrote.
                return 200, {"contacts": self.contacts, "notes": self.notes}
            self.requests.append(Seen(method, parts.path, parse_qs(parts.query), body, headers))
            return self.route(method, parts.path, parse_qs(parts.query), body, headers)

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        raise NotImplementedError

    def calls(self, path_part: str) -> list[Seen]:
        """The requests whose path contains `path_part` (tests assert on them)."""
        return [r for r in self.requests if path_part in r.path]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
