"""`/go` through the dev gateway, on the Firestore emulator and DuckDB."""

from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.errors import BackendUnavailable
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.factories import csv_text

pytestmark = pytest.mark.firestore
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture
def seeded(app):
    create_tenant(
        app.tenants,
        {
            "tenant_id": "acme",
            "name": "Acme",
            "redirect_domains": ("acme.com",),
            "default_landing_url": "https://www.acme.com/",
            "go_hosts": ("links.acme.com",),
        },
        allow_local_secret=True,
    )
    result = app.importer.run(
        "acme",
        "Q1",
        "https://www.acme.com/demo?utm_source=email",
        parse_leads(csv_text("ada@example.com,Ada,,,")),
        "https://links.acme.com",
    )
    return result.imported[0]


@pytest.fixture
def gateway():
    return Client(build_gateway())


def test_a_click_redirects_with_i_and_lands_in_email_clicks(app, seeded, gateway):
    response = gateway.get(f"/go?i={seeded.tracking_id}", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.netloc, target.path) == ("www.acme.com", "/demo")
    query = parse_qs(target.query)
    assert (query["utm_source"], query["i"]) == (["email"], [seeded.tracking_id])
    assert query["oie_t"][0].split(".")[1] == seeded.tracking_id
    assert response.headers["Cache-Control"] == "no-store"
    rows = app.warehouse.query("recent_clicks", {"tenant_id": "acme", "limit_rows": 10})
    assert [(r["tracking_id"], r["lead_id"], r["is_bot"]) for r in rows] == [
        (seeded.tracking_id, seeded.lead_id, False)
    ]


def test_an_unknown_id_on_the_tenants_link_host_lands_on_its_default_page(app, seeded, gateway):
    response = gateway.get("/go?i=AAAAAAAA", headers={"User-Agent": CHROME, "Host": "links.acme.com"})
    assert response.headers["Location"] == "https://www.acme.com/"
    (row,) = app.warehouse.sql("select tenant_id, is_known_link from email_clicks")
    assert row == {"tenant_id": "acme", "is_known_link": False}


def test_a_foreign_to_is_never_followed(app, seeded, gateway):
    response = gateway.get(f"/go?i={seeded.tracking_id}&to=https%3A%2F%2Fevil.com%2F")
    assert urlsplit(response.headers["Location"]).netloc == "www.acme.com"


def test_head_requests_redirect_too_and_count_as_bots(app, seeded, gateway):
    response = gateway.head(f"/go?i={seeded.tracking_id}", headers={"User-Agent": CHROME})
    assert response.status_code == 302
    (row,) = app.warehouse.sql("select is_bot, bot_reasons from email_clicks")
    assert row == {"is_bot": True, "bot_reasons": ["head_request"]}


def test_a_burst_on_one_link_is_marked_as_a_scanner_in_the_quality_view(app, seeded, gateway):
    for target in ("/a", "/b", "/c"):
        gateway.get(f"/go?i={seeded.tracking_id}&to={target}", headers={"User-Agent": CHROME})
    rows = app.warehouse.sql("select is_scanner_burst, is_human from email_click_quality")
    assert rows == [{"is_scanner_burst": True, "is_human": False}] * 3


def test_clicks_spooled_while_the_warehouse_is_down_reach_it_through_the_jobs_function(
    app, seeded, gateway, monkeypatch
):
    real_insert = app.warehouse.insert_rows

    def down(*args, **kwargs):
        raise BackendUnavailable("warehouse down")

    monkeypatch.setattr(app.warehouse, "insert_rows", down)
    response = gateway.get(f"/go?i={seeded.tracking_id}", headers={"User-Agent": CHROME})
    assert response.status_code == 302  # the recipient still lands
    assert len(app.click_spool.take(10)) == 1
    monkeypatch.setattr(app.warehouse, "insert_rows", real_insert)

    drained = gateway.post("/jobs", json={"job": "drain_click_spool"})
    assert drained.status_code == 200 and drained.get_json()["rows_written"] == 1
    assert app.click_spool.take(10) == []
    assert app.warehouse.sql("select lead_id from email_clicks") == [{"lead_id": seeded.lead_id}]


def test_an_unknown_path_of_a_function_is_a_json_404(gateway):
    response = gateway.post("/webhooks/nowhere", data=b"[]")
    assert response.status_code == 404


def test_an_unknown_job_is_a_404_naming_the_field(app, gateway):
    response = gateway.post("/jobs", json={"job": "nope"})
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "job"
