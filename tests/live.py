"""A real HTTP server on 127.0.0.1 for what the test client cannot show (chunked uploads)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """Serve a WSGI app on a free port of 127.0.0.1 for the block; yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def post_chunked(port: int, path: str, chunks: Iterable[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
    """POST with `Transfer-Encoding: chunked` and no Content-Length; (status, body) of the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
