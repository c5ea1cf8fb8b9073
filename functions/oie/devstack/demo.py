"""Seeding the local stack with a demo tenant and a demo campaign (idempotent)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug.test import Client

from oie.errors import OieError
from oie.links.csv_import import parse_leads
from oie.links.service import ImportedLead
from oie.outcomes.auth import authenticate, create_key
from oie.tenants.models import AlertChannel
from oie.tenants.service import create_tenant
from oie.wiring import Container

DEMO_TENANT = "demo"
DEMO_CAMPAIGN = "Demo Outreach"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
# What two demo leads did on the site before the campaign (days ago, pages), so the planner has
# something to go on: Ada, a CTO, read the product pages and case studies; Grace read pricing
# twice and asked for a demo. Alan and Katherine have not visited yet.
DEMO_VISITS: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "ada@analytical-engines.example": ((3, ("product", "case-studies")), (1, ("case-studies", "product"))),
    "grace@cobol.example": ((2, ("pricing", "product")), (1, ("pricing", "case-studies", "form"))),
}


@dataclass
class DemoSeed:
    tenant_id: str
    campaign_id: str
    leads: list[ImportedLead]


def seed_demo(app: Container, base_url: str) -> DemoSeed:
    """Create the demo tenant if missing and (re-)import the demo campaign; same ids every run."""
    channel = AlertChannel(kind="generic", url=f"{base_url}/_dev/alert-inbox")  # type: ignore[arg-type]
    existing = app.tenants.get(DEMO_TENANT)
    if existing is not None and existing.alert_channels != (channel,):
        # The stack may run on another port than last time: point alerts at this one.
        app.tenants.put(existing.model_copy(update={"alert_channels": (channel,)}))
    if existing is None:
        create_tenant(
            app.tenants,
            {
                "tenant_id": DEMO_TENANT,
                "name": "Acme Analytics (demo)",
                "allowed_origins": (base_url, base_url.replace("127.0.0.1", "localhost")),
                "redirect_domains": ("127.0.0.1", "localhost"),
                "default_landing_url": f"{base_url}/demo/",
                "alert_channels": (channel,),
            },
            allow_local_secret=True,
        )
    text = resources.files("oie.devstack").joinpath("assets", "demo_leads.csv").read_text()
    parsed = parse_leads(text.splitlines(keepends=True))
    result = app.importer.run(DEMO_TENANT, DEMO_CAMPAIGN, f"{base_url}/demo/", parsed, base_url)
    return DemoSeed(DEMO_TENANT, result.campaign.campaign_id, result.imported)


def demo_admin_key(app: Container, path: Path) -> str:
    """The demo tenant's admin key: made once and kept in the data folder (the store keeps only its hash)."""
    if path.exists():
        key = path.read_text().strip()
        try:
            authenticate(app.api_keys, DEMO_TENANT, f"Bearer {key}", "admin")
            return key
        except OieError:
            pass  # the data folder was reset: make a new one
    key = create_key(app.api_keys, DEMO_TENANT, ["admin"], "Demo admin", app.clock.now())
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def write_links_csv(seed: DemoSeed, path: Path) -> None:
    """The demo's tracking links, as `oie campaign create --out` writes them."""
    lines = ["email,first_name,tracking_id,tracking_url"]
    lines += [f"{i.lead.email},{i.lead.first_name},{i.tracking_id},{i.tracking_url}" for i in seed.leads]
    path.write_text("\n".join(lines) + "\n")


def _batches(email: str, base: str, now: datetime) -> list[tuple[str, list[dict[str, object]]]]:
    """The lead's seeded sessions as /track batches (session id, events); ids are fixed, so a re-seed repeats them."""
    batches = []
    for v, (days, pages) in enumerate(DEMO_VISITS[email]):
        start = (now - timedelta(days=days)).replace(hour=10, minute=5 * v, second=0, microsecond=0)
        rows: list[dict[str, object]] = []
        for page in pages:
            if page == "form":
                props: dict[str, object] = {"form_id": "demo-form", "form_name": "demo", "fields": ["email"]}
                rows.append({"type": "form_submit", "url": f"{base}/demo/", "props": props})
                continue
            url = f"{base}/demo/{page}"
            rows += [
                {"type": "pageview", "url": url, "props": {"title": page.replace("-", " ").title()}},
                {"type": "scroll", "url": url, "props": {"depth": 75}},
                {"type": "active_time", "url": url, "props": {"ms": 50_000}},
            ]
        for e, row in enumerate(rows):
            row["id"] = f"demo{sum(map(ord, email)) % 997:03d}{v:02d}{e:03d}"
            row["ts"] = int((start + timedelta(seconds=40 * e)).timestamp() * 1000)
        batches.append((f"demoseed{v:02d}", rows))
    return batches


def click_through(gateway: Client, tracking_id: str) -> str:
    """Follow a lead's /go link as Chrome would; the visitor token the landing page is handed."""
    location = gateway.get(f"/go?i={tracking_id}", headers={"User-Agent": CHROME}).headers["Location"]
    return parse_qs(urlsplit(location).query)["oie_t"][0]


def post_events(gateway: Client, base_url: str, token: str, tracking_id: str, sid: str, events: list[Any]) -> None:
    """Post one session's events to /track as the demo site's pixel would; RuntimeError unless accepted."""
    body = {
        "v": 1,
        "tenant": DEMO_TENANT,
        "vid": token.split(".")[0],
        "i": tracking_id,
        "tok": token,
        "sid": sid,
        "ctx": {"vw": 1440, "vh": 900, "lang": "en-US"},
        "events": events,
    }
    answer = gateway.post(
        "/track",
        data=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": base_url, "User-Agent": CHROME},
    )
    if answer.status_code != 202:
        raise RuntimeError(f"demo seed: /track answered {answer.status_code}: {answer.get_data(as_text=True)}")


def seed_demo_visits(seed: DemoSeed, base_url: str, now: datetime) -> int:
    """The demo leads' visits before the campaign, through /go and /track like a browser; batches posted.

    Call it before the sessionize and score jobs run (the history seed runs them).
    """
    from oie.devstack.gateway import build_gateway  # the gateway imports every function: only when seeding

    gateway = Client(build_gateway())
    posted = 0
    for imported in seed.leads:
        if imported.lead.email not in DEMO_VISITS:
            continue
        token = click_through(gateway, imported.tracking_id)
        for sid, rows in _batches(imported.lead.email, base_url, now):
            post_events(gateway, base_url, token, imported.tracking_id, sid, rows)
            posted += 1
    return posted
