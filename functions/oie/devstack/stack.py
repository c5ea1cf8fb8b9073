"""`oie dev run`: the whole engine on one machine, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import html
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from werkzeug.serving import make_server

from oie import wiring
from oie.devstack import state
from oie.devstack.crm_servers import connect_demo, start_local
from oie.devstack.demo import DemoSeed, demo_admin_key, seed_demo, seed_demo_visits, write_links_csv
from oie.devstack.demo_campaign import plan_demo_campaign, seed_demo_sender, wait_for_demo_plans
from oie.devstack.demo_history import seed_history, seeded
from oie.devstack.emulator import FirestoreEmulator, MissingTool, check_tools, free_port
from oie.devstack.gateway import build_gateway
from oie.devstack.scheduler import SchedulerLoop
from oie.devstack.state import (
    DEFAULT_FIRESTORE_PORT,
    DEFAULT_PORT,
    PROJECT,
    StackState,
    stack_environment,
)
from oie.settings import Settings, get_settings
from oie.webhooks.signer import LocalSigner, trust_for_tenant

# PROJECT and stack_environment live in oie.devstack.state (light, for the CLI); kept importable here.
__all__ = ["PROJECT", "run_stack", "stack_environment"]


def _index(seed: DemoSeed, base: str, data_dir: Path, port: int) -> str:
    links = "".join(
        f'<li><a href="{html.escape(i.tracking_url)}">{html.escape(i.tracking_url)}</a> — '
        f"{html.escape(i.lead.first_name)} at {html.escape(i.lead.company)}</li>"
        for i in seed.leads
    )
    return (
        '<div class="step"><b>1. Click a tracking link</b>, as a recipient of the demo campaign would:'
        f"<ul>{links}</ul></div>"
        f'<div class="step"><b>2. You land on</b> <a href="{base}/demo/">the demo page</a> '
        "with <code>i</code> in the URL.</div>"
        '<div class="step"><b>3. Browse the site</b>: product, pricing, case studies; scroll, click, fill the '
        "form, play the video. "
        f'Every event lands in the warehouse: <a href="{base}/_dev/events">events</a>.</div>'
        '<div class="step"><b>4. Score it</b>: <form method="post" action="/_dev/run-jobs" style="display:inline">'
        "<button>run sessionize, score and alerts now</button></form> (the scheduler loop runs them every 5 and "
        f'15 minutes), then see <a href="{base}/_dev/leads">lead scores and why</a> and '
        f'<a href="{base}/_dev/alerts">the hot-lead alerts received</a>; reload the demo page: it now knows how '
        "hot you are.</div>"
        '<div class="step"><b>5. Record what sales achieved</b> in the '
        f'<a href="{base}/outcomes/t/demo/admin/">RevOps admin</a> (the admin key is printed in the terminal and '
        f"kept in {html.escape(str(data_dir / 'admin-key.txt'))}): outcomes, win rates, missing-outcome nudges.</div>"
        '<div class="step"><b>6. Watch the demo campaign</b>: each contact has its own plan; the first emails are '
        f'in the <a href="{base}/_dev/outbox">outbox</a> (open one: its links go through /go, its unsubscribe '
        "link works). Post signed SendGrid events to move a plan: <code>.venv/bin/oie webhooks send-demo-events "
        f"{'' if port == DEFAULT_PORT else f'--port {port} '}--event open --event click "
        "--message &lt;message id&gt;</code>.</div>"
        '<div class="step"><b>7. See the click</b> in the warehouse: '
        f'<a href="{base}/_dev/clicks">email_clicks</a>.</div>'
        '<div class="step"><b>8. Intent moves the plan</b>: each demo contact\'s plan and copy were written by the '
        "language model (the local Gemini server, through the real google-genai SDK) from what the lead did on "
        f'the site; open a lead in the <a href="{base}/outcomes/t/demo/admin/">console</a> to read its lead '
        "analysis, its model, prompt version and tokens, and its copy. Click Alan's or Katherine's link above and "
        "open <em>Pricing</em>: their campaign moves to the pricing follow-up, sent within seconds (see the "
        "outbox). Mark a lead <em>appointment_set</em> on its console page: its campaign closes, nothing more "
        "is sent.</div>"
        '<div class="step"><b>9. Review AI plans first</b>: tick <em>review AI plans</em> in '
        f'<a href="{base}/outcomes/t/demo/admin/settings/planner">Settings → Planner</a>, plan a campaign with '
        "<code>.venv/bin/oie planner start</code>, and approve, edit or reject each plan under "
        f'<a href="{base}/outcomes/t/demo/admin/plan-reviews">Plan reviews</a>.</div>'
    )


def _end_with_parent() -> None:
    """In the child: end when the stack's process does, even if the stack is killed (Linux prctl)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalGemini:
    """The local Gemini server (oie.devstack.gemini_server) in a process of its own, known by its pid."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = (data_dir / "gemini.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oie.devstack.gemini_server", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            # Started from the main thread, which lives as long as the stack: PDEATHSIG fires when it ends.
            preexec_fn=_end_with_parent if sys.platform == "linux" else None,
        )
        # It prints its address once it listens: the planner's first call then finds it.
        ready = self.process.stdout.readline() if self.process.stdout else ""
        if self.base_url not in ready:
            self.stop()
            raise RuntimeError(f"the local Gemini server did not start (see {data_dir / 'gemini.log'})")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _refusal(root: Path, port: int, data_dir: Path, firestore_port: int | None) -> str | None:
    """Why this stack cannot start beside what already runs, if it cannot."""
    for other in state.running(root):
        if other.data_dir == data_dir:
            return (
                f"the stack on port {other.port} (pid {other.pid}) already uses {data_dir}: "
                f"stop it (oie dev stop --port {other.port}) or give this one another --data"
            )
    for wanted, what in ((port, "--port (make run PORT=…)"), (firestore_port, "--firestore-port (FIRESTORE_PORT=…)")):
        if wanted is not None and not _port_free(wanted):
            return f"port {wanted} is in use; choose another with {what}"
    return None


def run_stack(port: int, data_dir: Path | None = None, firestore_port: int | None = None) -> int:
    """Start everything, serve until Ctrl-C or SIGTERM, stop everything; the exit code.

    `data_dir` defaults to the settings' data directory for the default port and to a
    folder of its own under it for any other port, so a second stack never shares files
    with the first; `firestore_port` defaults to 8681, or a free port when 8681 is taken.
    """
    root = get_settings().data_dir
    try:
        check_tools()
    except MissingTool as exc:
        print(f"oie dev run: {exc}", file=sys.stderr)
        return 2
    data_dir = (data_dir or state.stack_data_dir(root, port)).absolute()
    for stale in state.clean_stale(root):
        print(f"cleaned up after the stack on port {stale.port} that did not stop (pid {stale.pid})", flush=True)
    if (refused := _refusal(root, port, data_dir, firestore_port)) is not None:
        print(f"oie dev run: {refused}", file=sys.stderr)
        return 2
    if firestore_port is None:
        firestore_port = DEFAULT_FIRESTORE_PORT if _port_free(DEFAULT_FIRESTORE_PORT) else free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(stack_environment(port, data_dir, firestore_port))
    hubspot, salesforce, crm_env = start_local(data_dir)  # local CRM servers for CRM sync (oie.crm)
    os.environ.update(crm_env)
    get_settings.cache_clear()
    base = f"http://127.0.0.1:{port}"

    emulator = FirestoreEmulator(firestore_port, data_dir=data_dir, log_path=data_dir / "firestore.log")
    print(f"starting the Firestore emulator on 127.0.0.1:{firestore_port} …", flush=True)
    emulator.start()
    scheduler = SchedulerLoop(f"{base}/jobs")
    server = None
    published: StackState | None = None
    gemini: LocalGemini | None = None
    try:
        # The planner calls Gemini through the real SDK: here, the local server (unless one is configured).
        if not os.environ.get("OIE_PLANNER_BASE_URL"):
            gemini = LocalGemini(data_dir)
            os.environ["OIE_PLANNER_BASE_URL"] = gemini.base_url
            get_settings.cache_clear()
            print(f"started the local Gemini server on {gemini.base_url} (pid {gemini.pid})", flush=True)
        app = wiring.Container(Settings())
        wiring.use(app)
        print("applying the warehouse schema from sql/ to DuckDB …", flush=True)
        app.warehouse.migrate()
        seed = seed_demo(app, base)
        connect_demo(app, hubspot)
        write_links_csv(seed, data_dir / "demo-links.csv")
        admin_key = demo_admin_key(app, data_dir / "admin-key.txt")
        # The demo's webhook events are signed locally: trust that key before anything runs,
        # since the functions cache tenant settings for a minute.
        signer = LocalSigner.load_or_create(data_dir)
        trust_for_tenant(app.tenants, "demo", signer)
        app.tasks  # noqa: B018 - starts the local task dispatcher (before the demo campaign's first sends)
        seed_demo_sender(app, base)
        print("seeding a week of demo history (once) …", flush=True)
        if not seeded(app):
            seed_demo_visits(seed, base, app.clock.now())  # before the history's sessionize and score runs
        seed_history(app, base, signer)
        # Planned per contact once the evidence is scored; the tasks run as soon as the gateway listens.
        plan_demo_campaign(app, base)
        server = make_server(
            "127.0.0.1", port, build_gateway(lambda: _index(seed, base, data_dir, port)), threaded=True
        )
        scheduler.start()
        stopping = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        serving = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
        serving.start()
        # The demo's planning tasks come in through the gateway: announce the stack once they are done.
        unplanned = wait_for_demo_plans(app, seed, stopping, timeout=120)
        if unplanned:
            print(f"{unplanned} demo contacts are still being planned (see {data_dir / 'gemini.log'})", flush=True)
        # Listening now: tell `oie` commands where this stack is.
        published = StackState(
            pid=os.getpid(),
            port=port,
            firestore_port=firestore_port,
            firestore_pid=emulator.pid,
            data_dir=data_dir,
            started_at=datetime.now(UTC),
        )
        state.write(root, published)
        print(
            f"\nThe Outbound Intent Engine is running.\n"
            f"  start here:        {base}/\n"
            f"  demo landing page: {base}/demo/\n"
            f"  sample /go link:   {seed.leads[0].tracking_url}\n"
            f"  clicks recorded:   {base}/_dev/clicks\n"
            f"  events recorded:   {base}/_dev/events\n"
            f"  lead scores:       {base}/_dev/leads\n"
            f"  alerts received:   {base}/_dev/alerts\n"
            f"  RevOps admin:      {base}/outcomes/t/demo/admin/  (key: {admin_key})\n"
            f"  campaign outbox:   {base}/_dev/outbox\n"
            f"  plan reviews:      {base}/outcomes/t/demo/admin/plan-reviews\n"
            f"  Gemini (local):    {os.environ.get('OIE_PLANNER_BASE_URL', '')}\n"
            f"  CRM (local):       {hubspot.base_url}/_local/state  (HubSpot; its token: {hubspot.token})\n"
            f"  all demo links:    {data_dir / 'demo-links.csv'}\n"
            f"  data:              {data_dir}\n"
            f"  Firestore:         {emulator.host}\n"
            f"Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        while serving.is_alive():  # the signal handler stops the gateway; signals reach this thread
            serving.join(0.5)
    finally:
        print("stopping …", flush=True)
        if published is not None:
            state.remove(root, published)
        scheduler.stop()
        wiring.container().close()
        if gemini is not None:
            gemini.stop()
            os.environ.pop("OIE_PLANNER_BASE_URL", None)
        if server is not None:
            server.server_close()
        try:
            emulator.export(PROJECT)
        except OSError as exc:
            print(f"could not save Firestore data: {exc}", file=sys.stderr)
        emulator.stop()
        hubspot.stop()
        salesforce.stop()
        (data_dir / "crm-servers.json").unlink(missing_ok=True)
        print("stopped.", flush=True)
    return 0
