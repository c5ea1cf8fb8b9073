"""A week of demo history for every console page, made through the real services and jobs.

Thirty leads are imported into the campaign "Demo Pipeline"; each clicks its /go link (so its
events are verified) and browses the demo site on some of the last seven days through /track;
the sessionize and score jobs turn that into sessions, scores and level changes; signed
SendGrid events and an Inbound Parse reply go through /webhooks; outcomes (some in past weeks)
go through the outcomes service; one contact of the campaign is paused. Deterministic,
and done once: a second start finds the history and adds nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from werkzeug.test import Client

from oie.campaigns.control import ControlRequest
from oie.campaigns.models import contact_campaign_id
from oie.campaigns.plan import parse_plan
from oie.campaigns.planner import TemplatePlanner
from oie.devstack.demo import CHROME, click_through, post_events
from oie.devstack.demo_campaign import demo_plan
from oie.devstack.gateway import build_gateway
from oie.jobs.context import EPOCH, Window
from oie.jobs.runner import JOBS
from oie.links.csv_import import parse_leads
from oie.links.ids import campaign_id as to_campaign_id
from oie.outcomes.auth import Actor
from oie.outcomes.models import OutcomeIn
from oie.ports import Task
from oie.webhooks.signer import LocalSigner
from oie.wiring import Container

TENANT = "demo"
CAMPAIGN = "Demo Pipeline"
_FIRST_NAMES = (
    "Maya Leo Nora Omar Priya Quinn Rosa Sven Tara Umar Vera Wes Xena Yuri Zoe "
    "Ines Jonas Kira Liam Mina Noah Olga Pablo Rhea Sami Tomas Uma Vik Wren Yara"
)
FIRST = _FIRST_NAMES.split()
_LAST_NAMES = (
    "Park Ortiz Berg Haddad Rao Lee Costa Lind Shah Aziz Novak Hale Moreau Sato Kim "
    "Reyes Weber Ito Walsh Duarte Levi Popova Ruiz Nair Oke Silva Mehta Varga Frost Amin"
)
LAST = _LAST_NAMES.split()
COMPANIES = (
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Data",
    "Hooli",
    "Stark Analytics",
    "Wayne Logistics",
    "Tyrell Labs",
    "Cyberdyne",
    "Soylent Foods",
)
SEED_ACTOR = Actor(key_id="demo-seed", label="Demo seed", scopes=frozenset({"admin"}))
# Each lead's profile: (days ago of its visits, pages per visit). Hot ones read pricing, case
# studies, submit the form and watch the video on several days.
HOT, WARM, COLD = range(0, 6), range(6, 16), range(16, 30)
PAUSED = 12  # a warm lead of the campaign whose contact is paused


@dataclass(frozen=True)
class HistoryLead:
    lead_id: str
    tracking_id: str
    email: str
    n: int


def _csv() -> list[str]:
    rows = ["email,first_name,last_name,company,title,source_key,geo_key,tier,timeline_bucket,intent_type"]
    for n, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        company = COMPANIES[n % len(COMPANIES)]
        domain = company.lower().replace(" ", "-") + ".example"
        rows.append(
            f"{first.lower()}.{last.lower()}@{domain},{first},{last},{company},"
            f"{('VP Sales', 'Head of RevOps', 'CTO', 'Director of Growth')[n % 4]},"
            f"{('linkedin', 'google', 'referral')[n % 3]},{('london', 'boston', 'berlin')[n % 3]},"
            f"{'ABC'[n % 3]},{('0-30', '31-90', '91-180')[n % 3]},{('platform', 'analytics')[n % 2]}"
        )
    return [r + "\n" for r in rows]


def _visits(n: int, now: datetime) -> list[tuple[datetime, list[tuple[str, dict[str, Any]]]]]:
    """The sessions of lead n: when, and its events (type, props); a pure function of n."""
    page = "/demo/"
    days: tuple[int, ...]
    if n in HOT:
        days = (6, 4, 2, 1, 0) if n < 3 else (5, 3, 1)
        pages = ["pricing", "case-studies", "pricing", "product", "pricing"]
    elif n in WARM:
        days, pages = (
            ((6 - n % 5, 2), ["product", "pricing"]) if n >= 11 else ((6 - n % 5,), ["product", "case-studies"])
        )
    else:
        days, pages = (6 - n % 7,), [""]
    visits = []
    for d, day in enumerate(days):
        start = (now - timedelta(days=day)).replace(hour=9 + (n + d) % 8, minute=(7 * n) % 60, second=0, microsecond=0)
        if start > now - timedelta(minutes=20):
            start = now - timedelta(minutes=20 + n)
        events: list[tuple[str, dict[str, Any]]] = []
        for path in pages[: 1 + d % len(pages)] if n in COLD else pages[: 2 + d]:
            events += [("pageview", {"title": path or "Home", "_path": page + path}), ("scroll", {"depth": 75})]
            events.append(("active_time", {"ms": 45_000 + 5_000 * (n % 4)}))
        if n in HOT and d >= 1:
            events.append(("video", {"action": "complete", "src": "/demo/demo.webm", "duration": 12.0}))
            events.append(("click", {"tag": "a", "text": "Book a demo", "href": "#book", "cta": True}))
        if n in HOT and d == len(days) - 1:
            events.append(("form_submit", {"form_id": "demo-form", "form_name": "demo", "fields": ["email"]}))
        visits.append((start, events))
    return visits


def _browse(gateway: Client, base: str, lead: HistoryLead, now: datetime) -> None:
    token = click_through(gateway, lead.tracking_id)
    for v, (start, events) in enumerate(_visits(lead.n, now)):
        rows = []
        for e, (kind, props) in enumerate(events):
            path = props.pop("_path", None) or "/demo/"
            ts = int((start + timedelta(seconds=40 * e)).timestamp() * 1000)
            rows.append(
                {"id": f"seed{lead.n:02d}{v:02d}{e:03d}", "type": kind, "ts": ts, "url": base + path, "props": props}
            )
        post_events(gateway, base, token, lead.tracking_id, f"seeds{v:03d}", rows)


def _run(app: Container, name: str) -> None:
    """A job over everything up to now (the seed's events were received a moment ago, so no settle)."""
    now = app.clock.now()
    JOBS[name](app, Window(since=EPOCH, until=now, now=now))


def _outcomes(app: Container, leads: list[HistoryLead], now: datetime) -> None:
    """Outcomes over the past four weeks (win rates have rows), appointments for two hot leads."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    plans: dict[int, list[tuple[str, datetime]]] = {
        0: [("contacted", now - timedelta(days=3)), ("appointment_set", now - timedelta(days=1))],
        1: [("contacted", now - timedelta(days=2)), ("appointment_set", now - timedelta(hours=20))],
    }
    for n in range(16, 28):  # older leads of the campaign, decided in past weeks
        week = monday - timedelta(weeks=1 + n % 3)
        plans[n] = [("contacted", week), ("closed_won" if n % 3 == 0 else "closed_lost", week + timedelta(days=2))]
    plans[6] = [("contacted", monday - timedelta(weeks=2)), ("closed_won", monday - timedelta(days=5))]
    for n, steps in plans.items():
        if app.outcome_store.history(TENANT, leads[n].lead_id):
            continue
        for k, (kind, at) in enumerate(steps):
            item = OutcomeIn(lead_id=leads[n].lead_id, outcome_type=kind, occurred_at=at, outcome_id=f"seed-{n}-{k}")
            app.outcomes_service.record(TENANT, item, SEED_ACTOR)
    # The nudge: a top-tier lead, in a short buying window, contacted 12 days ago and silent since.
    stale = leads[9]
    app.outcome_store.set_attributes(
        TENANT,
        stale.lead_id,
        {"tier": "A", "timeline_bucket": "0-30", "last_activity_at": (now - timedelta(days=12)).isoformat()},
    )
    if not app.outcome_store.history(TENANT, stale.lead_id):
        item = OutcomeIn(
            lead_id=stale.lead_id, outcome_type="contacted", occurred_at=now - timedelta(days=12), outcome_id="seed-9-0"
        )
        app.outcomes_service.record(TENANT, item, SEED_ACTOR)


class _Held:
    """The task queue while the seed runs: the seed delivers the due steps itself, in order."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []

    def enqueue(self, task: Task) -> bool:
        self.tasks.append(task)
        return True


def _send_intros(app: Container, gateway: Client, base: str, leads: list[HistoryLead]) -> dict[str, dict[str, Any]]:
    """Start the campaign through the engine and deliver its first sends now; each lead's message."""
    service = app.campaign_service
    real, held = service.tasks, _Held()
    service.tasks = held
    try:
        plan = parse_plan(json.dumps(demo_plan(base.rstrip("/"))))
        service.start_campaign(TENANT, to_campaign_id(CAMPAIGN), TemplatePlanner(plan))
        now, delivered = app.clock.now(), 0
        while delivered < len(held.tasks):
            task = held.tasks[delivered]
            if task.schedule_at is not None and task.schedule_at > now:
                break
            gateway.post(f"/{task.function}", json=task.payload, headers={"X-CloudTasks-TaskName": task.name or ""})
            delivered += 1
    finally:
        service.tasks = real
    for task in held.tasks[delivered:]:  # later steps (no-open bumps, timeouts) as the engine planned them
        real.enqueue(task)
    ccids = [contact_campaign_id(to_campaign_id(CAMPAIGN), lead.lead_id) for lead in leads]
    states = {s.contact.lead_id: s for s in app.console_service.campaigns.states(TENANT, ccids)}
    ids = {lead_id: s.node_message_id for lead_id, s in states.items() if s.node_message_id}
    docs = app.outbound_messages.get_many(TENANT, list(ids.values()))
    return {lead_id: {**docs[mid], "oie_message_id": mid} for lead_id, mid in ids.items() if mid in docs}


def _messages(gateway: Client, app: Container, signer: LocalSigner, leads: list[HistoryLead], base: str) -> None:
    """Signed SendGrid events for the intros (delivered, opens, clicks) and two Inbound Parse replies."""
    messages = _send_intros(app, gateway, base, leads)
    now = app.clock.now()
    # In the hour the replies arrive: the hourly rollup names a reply's campaign from that hour's events.
    first = max(int(now.replace(minute=0, second=0, microsecond=0).timestamp()), int(now.timestamp()) - 300)
    events = []
    for lead in leads:
        message = messages.get(lead.lead_id)
        if message is None:
            continue
        kinds = ["processed", "delivered"] + (["open"] if lead.n < 20 else []) + (["click"] if lead.n < 16 else [])
        for k, kind in enumerate(kinds):
            event: dict[str, Any] = {
                "email": lead.email,
                # Delivered two hours before the opens and clicks: a click seconds after delivery is a scanner's.
                "timestamp": int(now.timestamp()) - 7200 + k if k < 2 else min(first + k, int(now.timestamp())),
                "event": kind,
                "sg_event_id": f"seed-{lead.n}-{k}",
                "sg_message_id": f"seed{lead.n:02d}.filter0001",
                "tenant_id": TENANT,
                "contact_campaign_id": message.get("contact_campaign_id"),
                "node_id": message.get("node_id"),
                "oie_message_id": message["oie_message_id"],
            }
            if kind in ("open", "click"):
                event.update(useragent=CHROME, ip="203.0.113.7", sg_machine_open=False)
            if kind == "click":
                event["url"] = f"{base}/demo/pricing"
            events.append(event)
    body = json.dumps(events).encode()
    answer = gateway.post(f"/webhooks/sendgrid/{TENANT}", data=body, headers=signer.headers(body, int(now.timestamp())))
    if answer.status_code >= 300:
        raise RuntimeError(f"demo seed: the SendGrid webhook answered {answer.status_code}")
    _replies(gateway, app, [(lead, messages[lead.lead_id]) for lead in leads[:2] if lead.lead_id in messages])


def _replies(gateway: Client, app: Container, replies: list[tuple[HistoryLead, dict[str, Any]]]) -> None:
    from oie.webhooks.cli import _multipart, _new_inbound_credential

    credentials = _new_inbound_credential(app, TENANT)
    basic = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    tenant = app.tenants.get(TENANT)
    domain = (tenant.reply_domain if tenant else "") or "reply.localhost"
    for lead, message in replies:
        rfc_id = str(message.get("rfc_message_id") or "")
        token = str(message.get("reply_token") or "")
        to = f"reply+{token}@{domain}" if token else f"sales@{domain}"
        headers = f"Message-ID: <seed-reply-{lead.n}@demo.example>\nSubject: Re: demo\n"
        if rfc_id:
            headers += f"In-Reply-To: {rfc_id if rfc_id.startswith('<') else f'<{rfc_id}>'}\n"
        body, content_type = _multipart(
            {
                "to": to,
                "from": lead.email,
                "subject": "Re: a question about your team",
                "text": "Sounds interesting: can we talk on Thursday?",
                "headers": headers,
                "envelope": json.dumps({"to": [to], "from": lead.email}),
            }
        )
        gateway.post(
            f"/webhooks/inbound/{TENANT}",
            data=body,
            headers={"Content-Type": content_type, "Authorization": f"Basic {basic}"},
        )


def seeded(app: Container) -> bool:
    """Whether the history campaign is in the warehouse already (its import comes first)."""
    rows = app.warehouse.query("console_campaign_ids", {"tenant_id": TENANT, "limit_rows": 100})
    return to_campaign_id(CAMPAIGN) in {r["campaign_id"] for r in rows}


def seed_history(app: Container, base: str, signer: LocalSigner) -> bool:
    """The week of history, once (False when it was already there)."""
    if seeded(app):
        return False
    now = app.clock.now()
    parsed = parse_leads(_csv())
    result = app.importer.run(TENANT, CAMPAIGN, f"{base}/demo/", parsed, base)
    by_email = {i.lead.email: i for i in result.imported}
    leads = [
        HistoryLead(by_email[r.email].lead_id, by_email[r.email].tracking_id, r.email, n)
        for n, r in enumerate(parsed.leads)
    ]
    gateway = Client(build_gateway())
    for lead in leads:
        _browse(gateway, base, lead, now)
    _run(app, "sessionize")
    _run(app, "score")
    _messages(gateway, app, signer, leads, base)
    _outcomes(app, leads, now)
    for job in ("message_metrics", "win_rates", "outcome_nudges"):
        _run(app, job)
    _pause(app, leads[PAUSED].lead_id)
    return True


def _pause(app: Container, lead_id: str) -> None:
    """One contact asked to hear back next quarter: paused, its next step held until a resume."""
    request = ControlRequest(
        action="pause",
        scope="contact",
        campaign_id=to_campaign_id(CAMPAIGN),
        lead_id=lead_id,
        reason="asked to be contacted next quarter",
    )
    app.campaign_control.apply(TENANT, request, "demo seed")
