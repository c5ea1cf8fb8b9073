"""The pixel's cost to a page, side by side with Plausible's script, a minimal beacon and no script.

Cold visits in headless Chromium (a new browser context each), interleaved: every round loads
each variant on a plain page and on a landing whose URL carries `i`, in a rotating order, under
one Chromium trace kept IDLE_S seconds past the last load (the pixel's 10 s batch timer
included). From the trace, per page's renderer main thread: JS (V8 work: script, callbacks,
timers, idle callbacks, compile, GC) and all main-thread work DevTools accounts for, until
`load` and until load + IDLE_S, as CPU time (`tdur`, robust on a shared machine) and wall time.
The same rounds run again under 4x CPU throttling (a mid-range phone), reported as wall time.
/track and Plausible's /api/event answer 202 from a stub, so only the page's own cost is
measured. Figures are medians, with ratios to Plausible (`plausible-tracker` from npm, bundled
by the pixel's esbuild) and to the beacon (the floor); `added` is over the page without a script.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PIXEL

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# BENCH_PIXEL_ROUNDS shortens a run while working on the pixel; make bench uses the defaults.
ROUNDS = int(os.environ.get("BENCH_PIXEL_ROUNDS", "12"))
THROTTLED_ROUNDS = max(1, ROUNDS // 2)
IDLE_S = 11.0
# BENCH_PIXEL_BEFORE=<path to an earlier build of oie.js> adds it as "oie_before", for a
# before/after comparison within the same interleaved run.
BEFORE = os.environ.get("BENCH_PIXEL_BEFORE")
VARIANTS = ("none", "beacon", "plausible", "oie") + (("oie_before",) if BEFORE else ())
PAGES = {"plain": "", "landing": "?i=ab3f9k2q"}
TAGS = {
    "none": "",
    "beacon": '<script async src="/beacon.js"></script>',
    "plausible": '<script async src="/plausible.js"></script>',
    "oie": '<script async src="/oie.js" data-tenant="bench"></script>',
    "oie_before": '<script async src="/oie_before.js" data-tenant="bench"></script>',
}
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Bench</title>{tag}</head>
<body><h1>Hi <span data-personalize="firstName">there</span></h1>{filler}
<a id="cta" href="#x" class="btn">Book</a><form><input type="email" name="email"></form></body></html>"""
FILLER = "".join(f"<p>Paragraph {n} of a landing page with some text to lay out.</p>" for n in range(200))
# Enough for DevTools' own accounting of the main thread (parse, style, layout, paint, script);
# the task-level categories make each round's trace several times larger and slower to read.
CATEGORIES = ["devtools.timeline", "v8.execute"]
# V8 work on the main thread: script evaluation, callbacks, timers, idle callbacks, microtasks,
# compilation and garbage collection (nested ones counted once).
JS = {
    "EvaluateScript",
    "FunctionCall",
    "TimerFire",
    "FireIdleCallback",
    "FireAnimationFrame",
    "RunMicrotasks",
    "v8.compile",
    "v8.compileModule",
    "v8.evaluateModule",
    "MinorGC",
    "MajorGC",
}
FIGURES = [
    f"{kind}_{key}_{window}" for kind in ("js", "main") for key in ("cpu", "wall") for window in ("load", "idle")
]


def _plausible() -> bytes:
    """Plausible's npm tracker bundled and minified by the pixel's own esbuild."""
    entry = (FIXTURES / "plausible_entry.js").read_bytes()
    esbuild = PIXEL / "node_modules" / ".bin" / "esbuild"
    cmd = [str(esbuild), "--bundle", "--minify", "--format=iife", "--target=es2019", "--log-level=warning"]
    return subprocess.run(cmd, cwd=PIXEL, input=entry, capture_output=True, check=True).stdout


def _server(scripts: dict[str, bytes]) -> ThreadingHTTPServer:
    bodies = {f"/{v}.html": PAGE.format(tag=TAGS[v], filler=FILLER).encode() for v in VARIANTS}
    bodies |= {f"/{name}": body for name, body in scripts.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            kind = "text/javascript" if self.path.endswith(".js") else "text/html"
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _sizes() -> dict[str, object]:
    output = subprocess.run(["node", "scripts/size.mjs"], cwd=PIXEL, capture_output=True, text=True, check=True).stdout
    return json.loads(output)


def _frame(cdp: Any) -> str:
    return str(cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"])


def _outermost(events: list[dict[str, Any]], key: str) -> float:
    """Sum of `key` over events not nested in an earlier one (a JS call inside a timer counts once)."""
    total, end = 0.0, -1.0
    for e in sorted(events, key=lambda e: (e["ts"], -e.get("dur", 0))):
        if e["ts"] >= end:
            total += e.get(key, 0)
            end = e["ts"] + e.get("dur", 0)
    return total / 1000


def _costs(trace: list[dict[str, Any]], frame: str) -> dict[str, float]:
    """One page's main-thread costs, CPU (tdur) and wall (dur) ms, until `load` and to load + IDLE_S."""
    marks = [e for e in trace if e["name"] == "MarkLoad" and e["args"]["data"]["frame"] == frame]
    pid, tid, load = marks[-1]["pid"], marks[-1]["tid"], marks[-1]["ts"]
    mine = [e for e in trace if e["pid"] == pid and e["tid"] == tid and e.get("ph") == "X"]
    out = {}
    for window, until in (("load", load), ("idle", load + IDLE_S * 1e6)):
        work = [e for e in mine if e["ts"] <= until]
        js = [e for e in mine if e["name"] in JS and e["ts"] <= until]
        for key, field in (("cpu", "tdur"), ("wall", "dur")):
            out[f"js_{key}_{window}"] = _outermost(js, field)
            out[f"main_{key}_{window}"] = _outermost(work, field)
    return out


def _round(browser: Browser, base: str, order: list[tuple[str, str]], throttle: float) -> list[dict[str, Any]]:
    """Loads each (variant, page) once, one after the other, under one trace kept to IDLE_S after the last load."""
    browser.start_tracing(categories=CATEGORIES)
    opened = []
    try:
        for variant, page_name in order:
            context = browser.new_context()
            context.add_init_script("Object.defineProperty(Navigator.prototype,'webdriver',{get:()=>false})")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            if throttle > 1:
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.goto(f"{base}/{variant}.html{PAGES[page_name]}", wait_until="load")
            opened.append((variant, page_name, context, _frame(cdp)))
        time.sleep(IDLE_S + 0.5)
    finally:
        raw = json.loads(browser.stop_tracing())
        for *_, context, _ in opened:
            context.close()
    trace = raw["traceEvents"] if isinstance(raw, dict) else raw
    return [{"variant": v, "page": p, **_costs(trace, frame)} for v, p, _, frame in opened]


def _summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Medians per page and variant, with the JS ratios to Plausible and to the beacon and `added` over none."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for page_name in PAGES:
        cell = {v: [r for r in rows if r["variant"] == v and r["page"] == page_name] for v in VARIANTS}
        med = {v: {f: statistics.median(r[f] for r in cell[v]) for f in FIGURES} for v in VARIANTS}
        for v in VARIANTS:
            fig = med[v]
            for f in FIGURES:
                fig[f"{f}_added"] = fig[f] - med["none"][f]
                if f.startswith("js_"):
                    fig[f"{f}_x_plausible"] = fig[f] / med["plausible"][f]
                    fig[f"{f}_x_beacon"] = fig[f] / med["beacon"][f]
        out[page_name] = {v: {k: round(x, 2) for k, x in fig.items()} for v, fig in med.items()}
    return out


def _print(label: str, summary: dict[str, dict[str, dict[str, float]]], rounds: int, key: str) -> None:
    print(f"{label}: medians of {rounds} cold loads per cell, main-thread {key} ms from the trace")
    for page_name, figures in summary.items():
        for v in VARIANTS:
            f = figures[v]
            load, idle = f"js_{key}_load", f"js_{key}_idle"
            print(
                f"  {page_name:7} {v:9} JS until load {f[load]:6.2f} "
                f"(x{f[load + '_x_plausible']:.2f} Plausible, x{f[load + '_x_beacon']:.2f} beacon); "
                f"to load+{IDLE_S:.0f}s {f[idle]:6.2f} (x{f[idle + '_x_plausible']:.2f} Plausible, "
                f"x{f[idle + '_x_beacon']:.2f} beacon); main thread until load "
                f"{f[f'main_{key}_load_added']:+.2f} over none, to load+{IDLE_S:.0f}s {f[f'main_{key}_idle_added']:+.2f}"
            )


def run() -> dict[str, object]:
    sizes = _sizes()
    print(f"sizes (bytes): {json.dumps(sizes)}")
    scripts = {
        "oie.js": (PIXEL / "dist" / "oie.js").read_bytes(),
        "plausible.js": _plausible(),
        "beacon.js": (FIXTURES / "beacon.js").read_bytes(),
    }
    if BEFORE:
        scripts["oie_before.js"] = Path(BEFORE).read_bytes()
    print(f"script bytes: { {name: len(body) for name, body in scripts.items()} }")
    server = _server(scripts)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    cells = [(v, p) for p in PAGES for v in VARIANTS]
    results: dict[str, object] = {"sizes": sizes, "rounds": ROUNDS, "idle_s": IDLE_S}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # CPU time is what the page costs on this (shared) machine; under throttling Chromium
            # pauses the thread, so the throttled run reports wall time.
            runs = (("unthrottled", ROUNDS, 1.0, "cpu"), ("cpu_4x", THROTTLED_ROUNDS, 4.0, "wall"))
            for label, rounds, throttle, key in runs:
                rows = []
                for n in range(rounds):
                    shift = n % len(cells)
                    rows += _round(browser, base, cells[shift:] + cells[:shift], throttle)
                summary = _summary(rows)
                _print(label, summary, rounds, key)
                results[label] = summary
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return results
