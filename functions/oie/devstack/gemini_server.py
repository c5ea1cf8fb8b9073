"""A local stand-in for the part of the Gemini API google-genai calls: `generateContent`.

It serves the Vertex AI path (`/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}
:generateContent`, what production uses) and the Developer API path (`/v1beta/models/{m}
:generateContent`), in the API's real response format. A prompt that contains all the markers
of a recorded response (assets/gemini/*.json) gets that response; any other prompt gets a valid
plan composed deterministically from the `<planning_input>` block in it. Tests steer it:
`POST /_control {"mode": "invalid_json"|"schema_violation"|"invented_facts"|"rate_limit"|
"timeout"|"ok", "times": n}` and read `GET /_requests`. Like Gemini, it refuses a response
schema that uses `$ref`, `$defs` or `discriminator`.

    python -m oie.devstack.gemini_server --port 8090
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

MODES = ("ok", "invalid_json", "schema_violation", "invented_facts", "rate_limit", "timeout")
_PATH = re.compile(
    r"^/(?:v1beta1|v1)/projects/[^/]+/locations/[^/]+/publishers/google/models/(?P<a>[^/:]+):generateContent$"
    r"|^/(?:v1beta|v1)/models/(?P<b>[^/:]+):generateContent$"
)
_INPUT = re.compile(r"<planning_input>\s*(\{.*?\})\s*</planning_input>", re.DOTALL)
_REFUSED_KEYWORDS = ("$ref", "$defs", "discriminator")


@dataclass
class ServerState:
    """What the control endpoint set, and every generateContent request seen."""

    modes: list[tuple[str, int]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: float = 30.0
    retry_after: str = "1"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_mode(self) -> str:
        with self.lock:
            while self.modes and self.modes[0][1] <= 0:
                self.modes.pop(0)
            if not self.modes:
                return "ok"
            mode, times = self.modes[0]
            self.modes[0] = (mode, times - 1)
            return mode


def recorded_responses() -> list[tuple[list[str], dict[str, Any]]]:
    """(markers, response) of every recorded response in assets/gemini; a prompt needs all its markers."""
    folder = resources.files("oie.devstack").joinpath("assets", "gemini")
    found = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            body = json.loads(item.read_text())
            found.append((list(body["markers"]), body["response"]))
    return found


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, "several times")


def _copy_for(index: int, planning: dict[str, Any]) -> tuple[str, str]:
    """Subject and text of the index-th send node, from what the lead did (words, not figures)."""
    evidence = planning.get("evidence") or {}
    offer = (planning.get("offer") or "").strip()
    sender = planning.get("sender_company") or "our team"
    read = [
        (evidence.get("pricing_views", 0), "pricing", "our pricing"),
        (evidence.get("case_study_views", 0), "case studies", "the case studies"),
        (evidence.get("product_views", 0), "product", "the product pages"),
    ]
    count, topic, pages = max(read, key=lambda r: r[0])
    if index == 0:
        subject = (
            f"{{{{first_name|Hi}}}}, a note on {topic} for {{{{company|your team}}}}"
            if count
            else ("{{first_name|Hi}}, a question about {{company|your team}}")
        )
        seen = f"You looked at {pages} {_times(count)}, so here is the short version. " if count else ""
        pitch = offer or f"{sender} shows which accounts are ready to buy."
        text = f"Hi {{{{first_name|there}}}},\n\n{seen}{pitch}\n\nWorth a look? {{{{tracking_link}}}}\n\n"
        text += "{{sender_name}}"
    else:
        subject = f"Re: {topic} at {{{{company|your team}}}}" if count else "Re: a question about {{company|your team}}"
        text = "Following up on my note, {{first_name|there}}: happy to walk you through it. {{tracking_link}}"
    return subject, text


def _analysis(planning: dict[str, Any]) -> str:
    evidence = planning.get("evidence") or {}
    parts = [
        f"read {label} {_times(n)}"
        for label, n in (
            ("pricing", evidence.get("pricing_views", 0)),
            ("case studies", evidence.get("case_study_views", 0)),
            ("product pages", evidence.get("product_views", 0)),
        )
        if n
    ]
    level = evidence.get("level") or "unscored"
    email = evidence.get("email") or {}
    engaged = "opened our emails" if email.get("opened") else "no email engagement yet"
    return f"Level {level}; " + ("; ".join(parts) if parts else "no site visits yet") + f"; {engaged}."


def compose(prompt: str) -> dict[str, Any]:
    """A valid answer for any planning prompt: the template's structure with copy from the evidence."""
    match = _INPUT.search(prompt)
    if match is None:
        return {"leadAnalysis": "No planning input found.", "plan": {}}
    planning = json.loads(match.group(1))
    plan = copy.deepcopy(planning["template"])
    sends = 0
    for node in plan.get("nodes", []):
        if node.get("type") != "send" or node.get("channel", "email") != "email":
            continue
        subject, text = _copy_for(sends, planning)
        sends += 1
        if node.get("template") is not None:
            node["template"] = {"subject": subject, "text": text}
        for variant in node.get("variants") or []:
            variant["template"] = {"subject": subject, "text": text}
    return {"leadAnalysis": _analysis(planning), "plan": plan}


def _spoil(answer: dict[str, Any], mode: str) -> str:
    if mode == "invalid_json":
        return json.dumps(answer)[:40]
    if mode == "schema_violation":
        return json.dumps({"leadAnalysis": answer["leadAnalysis"], "plan": {"nodes": "none", "startNodeId": "x y"}})
    if mode == "invented_facts":
        spoiled = copy.deepcopy(answer)
        for node in spoiled["plan"].get("nodes", []):
            if node.get("template"):
                node["template"]["text"] += "\n\nGlobex Corp cut churn by 37% and saved $120,000 with us."
        return json.dumps(spoiled)
    return json.dumps(answer)


def _response(text: str, prompt: str, model: str) -> dict[str, Any]:
    prompt_tokens, output_tokens = max(len(prompt) // 4, 1), max(len(text) // 4, 1)
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": model,
        "responseId": hashlib.sha256(f"{time.time_ns()}{prompt}".encode()).hexdigest()[:22],
    }


def answer(state: ServerState, body: dict[str, Any], model: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, headers) for one generateContent request."""
    prompt = "\n".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
    config = body.get("generationConfig") or {}
    schema = json.dumps(config.get("responseJsonSchema") or config.get("responseSchema") or {})
    mode = state.next_mode()
    with state.lock:
        state.requests.append({"model": model, "mode": mode, "prompt": prompt, "generation_config": config})
    for keyword in _REFUSED_KEYWORDS:
        if f'"{keyword}"' in schema:
            error = {
                "code": 400,
                "message": f"responseJsonSchema: {keyword} is not supported",
                "status": "INVALID_ARGUMENT",
            }
            return 400, {"error": error}, {}
    if mode == "rate_limit":
        error = {"code": 429, "message": "Resource exhausted. Please try again later.", "status": "RESOURCE_EXHAUSTED"}
        return 429, {"error": error}, {"Retry-After": state.retry_after}
    if mode == "timeout":
        time.sleep(state.timeout_seconds)
    if "previous answer was refused" not in prompt:
        for markers, recorded in recorded_responses():
            if mode == "ok" and all(marker in prompt for marker in markers):
                return 200, {**recorded, "modelVersion": recorded.get("modelVersion", model)}, {}
    return 200, _response(_spoil(compose(prompt), mode), prompt, model), {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        parsed = json.loads(self.rfile.read(length) or b"{}")
        return parsed if isinstance(parsed, dict) else {}

    def do_GET(self) -> None:
        if self.path == "/_requests":
            with self.server.state.lock:
                self._send(200, {"requests": list(self.server.state.requests)})
        else:
            self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

    def do_POST(self) -> None:
        state = self.server.state
        if self.path == "/_control":
            body = self._body()
            mode = body.get("mode", "ok")
            if mode not in MODES:
                self._send(400, {"error": f"mode must be one of {', '.join(MODES)}"})
                return
            with state.lock:
                state.modes = [] if mode == "ok" else [*state.modes, (mode, int(body.get("times", 1)))]
                state.timeout_seconds = float(body.get("timeout_seconds", state.timeout_seconds))
                state.retry_after = str(body.get("retry_after", state.retry_after))
                if body.get("clear_requests"):
                    state.requests.clear()
            self._send(200, {"modes": state.modes})
            return
        match = _PATH.match(self.path.split("?", 1)[0])
        if match is None:
            self._send(404, {"error": {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}})
            return
        status, body, headers = answer(state, self._body(), match.group("a") or match.group("b"))
        self._send(status, body, headers)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and `make run` read /_requests instead


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = ServerState()


@dataclass
class GeminiServerHandle:
    """A running server: its base URL (the SDK's `base_url`) and how to stop it."""

    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> ServerState:
        return self.server.state

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(port: int = 0) -> GeminiServerHandle:
    """Serve on 127.0.0.1:`port` (0: a free one) in a background thread."""
    server = _Server(port)
    thread = threading.Thread(target=server.serve_forever, name="gemini-server", daemon=True)
    thread.start()
    return GeminiServerHandle(server, thread)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Gemini generateContent server for google-genai.")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    handle = start(args.port)
    print(f"gemini server on {handle.base_url}", flush=True)
    try:
        handle.thread.join()
    except KeyboardInterrupt:
        handle.stop()


if __name__ == "__main__":
    main()
