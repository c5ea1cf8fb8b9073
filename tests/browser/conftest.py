"""Browser tests of the pixel: real headless Chromium against a local capture server.

The capture server serves `fixtures/*.html` and the built `pixel/dist/*.js`, records every
POST /track body and answers /personalize with a canned profile.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
PIXEL = ROOT / "pixel"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROFILE = {
    "firstName": "Ada",
    "company": "<b>Acme</b>",
    "industry": "SaaS",
    "intentLevel": "hot",
    "intentScore": 72,
    "viewedPricing": True,
}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".webm": "video/webm"}


@dataclass
class Capture:
    """What the pixel sent, shared between the server thread and the tests."""

    tracks: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    personalize: list[dict[str, list[str]]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.tracks.clear()
            self.content_types.clear()
            self.personalize.clear()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [event for body in self.tracks for event in body["events"]]

    def wait_for(self, ok: Callable[[list[dict[str, Any]]], bool], timeout: float = 10) -> None:
        """Polls the captured events until `ok(events)` holds."""
        deadline = time.monotonic() + timeout
        while not ok(self.events()):
            if time.monotonic() > deadline:
                types = [event["type"] for event in self.events()]
                raise AssertionError(f"timed out; captured event types: {types}")
            time.sleep(0.05)


def _handler(capture: Capture) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _file(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith("/media/") and path in capture.media:
                self._send(200, capture.media[path], "video/webm")
                return
            roots = {"/fixtures/": FIXTURES, "/dist/": PIXEL / "dist"}
            for prefix, folder in roots.items():
                name = path.removeprefix(prefix)
                if path.startswith(prefix) and "/" not in name and (folder / name).is_file():
                    file = folder / name
                    self._send(200, file.read_bytes(), TYPES.get(file.suffix, "text/plain"))
                    return
            self._send(404, b"not found", "text/plain")

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/personalize":
                with capture.lock:
                    capture.personalize.append(parse_qs(url.query))
                self._send(200, json.dumps(PROFILE).encode(), "application/json")
            else:
                self._file()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/track":
                with capture.lock:
                    capture.tracks.append(json.loads(body))
                    capture.content_types.append(self.headers.get("Content-Type", ""))
                self._send(202, b"{}", "application/json")
            else:
                self._file()  # a form posted to a fixture page

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A beacon cut off by a closing page is normal here, not a test failure.
        pass


@pytest.fixture(scope="session")
def capture_server(pixel_dist: Path) -> Iterator[tuple[str, Capture]]:
    """The capture server on a free 127.0.0.1 port; yields (base_url, capture)."""
    capture = Capture()
    server = _Server(("127.0.0.1", 0), _handler(capture))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", capture
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server(capture_server: tuple[str, Capture]) -> tuple[str, Capture]:
    """The capture server with nothing captured yet."""
    capture_server[1].clear()
    return capture_server


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


_RECORD = """async (ms) => {
  const canvas = document.createElement('canvas')
  canvas.width = canvas.height = 16
  const g = canvas.getContext('2d')
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' })
  const parts = []
  recorder.ondataavailable = (e) => parts.push(e.data)
  let k = 0
  const draw = setInterval(() => {
    g.fillStyle = k++ % 2 ? '#123' : '#abc'
    g.fillRect(0, 0, 16, 16)
  }, 40)
  recorder.start()
  await new Promise((done) => setTimeout(done, ms))
  recorder.stop()
  await new Promise((done) => (recorder.onstop = done))
  clearInterval(draw)
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer())
  return Array.from(bytes)
}"""


@pytest.fixture(scope="session")
def video_url(browser: Browser, capture_server: tuple[str, Capture]) -> str:
    """A 2-second WebM recorded from a canvas by Chromium itself, served by the capture server.

    Recording at test time keeps binaries out of the repository; Chromium's recorder writes
    a seekable WebM with its duration, so the clip really plays and reports progress.
    """
    base, capture = capture_server
    context = browser.new_context()
    try:
        recorder = context.new_page()
        recorder.goto(f"{base}/fixtures/blank.html")
        webm = bytes(recorder.evaluate(_RECORD, 2000))
    finally:
        context.close()
    capture.media["/media/clip.webm"] = webm
    return f"{base}/media/clip.webm"
