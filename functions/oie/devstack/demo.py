"""Seeding the local stack with a demo tenant and a demo campaign (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from oie.errors import OieError
from oie.links.csv_import import parse_leads
from oie.links.service import ImportedLead
from oie.outcomes.auth import authenticate, create_key
from oie.tenants.models import AlertChannel
from oie.tenants.service import create_tenant
from oie.wiring import Container

DEMO_TENANT = "demo"
DEMO_CAMPAIGN = "Demo Outreach"


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
