"""The pixel's cost to a page: sizes, and main-thread time in headless Chromium.

Cold visits (a new browser context each), interleaved with and without the pixel, 25 of
each; the figure is the JavaScript and task time Chromium reports once `load` has fired
(CDP Performance.getMetrics), median per variant. /track answers 202 from a stub so
only the page's own cost is measured.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import sync_playwright

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PIXEL

LOADS = 25
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Bench</title>{pixel}</head>
<body><h1>Hi <span data-personalize="firstName">there</span></h1>{filler}
<a id="cta" href="#x" class="btn">Book</a><form><input type="email" name="email"></form></body></html>"""
PIXEL_TAGS = '<script async src="/oie.js" data-tenant="bench"></script>'
FILLER = "".join(f"<p>Paragraph {n} of a landing page with some text to lay out.</p>" for n in range(200))


def _server() -> ThreadingHTTPServer:
    bodies = {
        "/with.html": PAGE.format(pixel=PIXEL_TAGS, filler=FILLER).encode(),
        "/without.html": PAGE.format(pixel="", filler=FILLER).encode(),
        "/oie.js": (PIXEL / "dist" / "oie.js").read_bytes(),
    }

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


def run() -> dict[str, object]:
    sizes = _sizes()
    print(f"sizes (bytes): {json.dumps(sizes)}")
    server = _server()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    samples: dict[str, dict[str, list[float]]] = {v: {"script_ms": [], "task_ms": []} for v in ("with", "without")}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for n in range(LOADS * 2):
                variant = ("with", "without")[n % 2]
                context = browser.new_context()
                context.add_init_script("Object.defineProperty(Navigator.prototype,'webdriver',{get:()=>false})")
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.goto(f"{base}/{variant}.html?i=ab3f9k2q", wait_until="load")
                page.wait_for_timeout(50)  # the async script runs right after load on fast pages
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                samples[variant]["script_ms"].append(metrics["ScriptDuration"] * 1000)
                samples[variant]["task_ms"].append(metrics["TaskDuration"] * 1000)
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    medians = {v: {k: round(statistics.median(x), 2) for k, x in m.items()} for v, m in samples.items()}
    added_script = round(medians["with"]["script_ms"] - medians["without"]["script_ms"], 2)
    added_task = round(medians["with"]["task_ms"] - medians["without"]["task_ms"], 2)
    print(
        f"page JS time, median of {LOADS} cold loads: without {medians['without']['script_ms']} ms, "
        f"with pixel {medians['with']['script_ms']} ms -> pixel adds {added_script} ms of script"
    )
    print(
        f"main-thread task time: without {medians['without']['task_ms']} ms, with {medians['with']['task_ms']} ms "
        f"-> adds {added_task} ms"
    )
    return {"sizes": sizes, "medians": medians, "added_script_ms": added_script, "added_task_ms": added_task}
