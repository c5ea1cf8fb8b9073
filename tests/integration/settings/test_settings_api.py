"""The settings API through the local gateway: admin-only, tenant-bound, bodies validated, sessions revoked."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from tests.integration.settings.conftest import p256_key

pytestmark = pytest.mark.firestore
BASE = "/outcomes/t/acme/settings"


@pytest.fixture
def client(world):
    return Client(build_gateway())


def call(client, method, path, key, body=None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.open(path, method=method, json=body, headers=headers, **kwargs)


ADMIN_OPERATIONS = [
    ("GET", "/tenant", None),
    ("PATCH", "/tenant", {"ip_mode": "none"}),
    ("GET", "/limits", None),
    ("PUT", "/limits", {"tenant_hourly": 10, "domain_hourly": {"*": 5}}),
    ("GET", "/senders", None),
    ("POST", "/senders", {"sender_id": "ann", "from_email": "ann@acme.com"}),
    ("DELETE", "/senders?sender_id=ann", None),
    ("GET", "/alert-channels", None),
    ("POST", "/alert-channels", {"kind": "slack", "url": "https://hooks.slack.com/services/x"}),
    ("DELETE", "/alert-channels?channel_id=0123456789", None),
    ("POST", "/alert-channels/test", {"channel_id": "0123456789"}),
    ("GET", "/scoring", None),
    ("POST", "/scoring/preview", {"weights": {}}),
    ("PUT", "/scoring", {"weights": {}}),
    ("GET", "/keys", None),
    ("POST", "/keys", {"label": "x", "role": "admin"}),
    ("DELETE", "/keys?key_id=0123456789ab", None),
    ("GET", "/log", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_OPERATIONS)
def test_a_member_key_gets_a_clear_403_on_every_settings_operation(world, client, method, path, body):
    response = call(client, method, BASE + path, world.keys["member"], body)
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "only an admin key may change settings; this key's role is member"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_OPERATIONS[:4])
def test_another_tenants_key_learns_nothing(world, client, method, path, body):
    response = call(client, method, BASE + path, world.keys["beta"], body)
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "this key may not do that for this tenant"
    assert call(client, method, BASE + path, None, body).status_code == 401


def test_an_admin_sets_limits_and_a_bad_body_is_a_400_naming_the_field(world, client):
    key = world.keys["admin"]
    saved = call(client, "PUT", BASE + "/limits", key, {"tenant_hourly": 700, "domain_hourly": {"gmail.com": 40}})
    assert saved.status_code == 200 and saved.get_json() == {"tenant_hourly": 700, "domain_hourly": {"gmail.com": 40}}
    assert call(client, "GET", BASE + "/limits", key).get_json()["tenant_hourly"] == 700
    for body, field in (
        ({"tenant_hourly": 0, "domain_hourly": {}}, "tenant_hourly"),
        ({"tenant_hourly": 5, "domain_hourly": {"x y": 1}}, "domain_hourly"),
        ({"tenant_hourly": 5, "domain_hourly": {}, "extra": 1}, "extra"),
        ([1, 2], "body"),
    ):
        refused = call(client, "PUT", BASE + "/limits", key, body)
        assert refused.status_code == 400 and refused.get_json()["error"]["field"] == field, refused.get_json()
    bad_key = call(client, "PATCH", BASE + "/tenant", key, {"sendgrid_webhook_public_key": "bm90IGEga2V5"})
    assert bad_key.status_code == 400 and bad_key.get_json()["error"]["field"] == "sendgrid_webhook_public_key"
    good = call(client, "PATCH", BASE + "/tenant", key, {"sendgrid_webhook_public_key": p256_key()})
    assert good.status_code == 200 and good.get_json()["sendgrid_webhook_key"].startswith("sha256:")
    log = call(client, "GET", BASE + "/log?limit=10", key).get_json()["changes"]
    assert {c["setting"] for c in log} == {
        "limits.tenant_hourly",
        "limits.domain_hourly",
        "sendgrid_webhook_public_key",
    }
    assert all(c["key_name"] == "Ann Admin" for c in log)


def test_an_alert_channel_is_tested_through_the_api(world, client, receiver):
    key = world.keys["admin"]
    added = call(client, "POST", BASE + "/alert-channels", key, {"kind": "generic", "url": receiver.url})
    assert added.status_code == 201 and "url" not in added.get_json()
    tested = call(client, "POST", BASE + "/alert-channels/test", key, {"channel_id": added.get_json()["channel_id"]})
    assert tested.status_code == 200 and tested.get_json()["delivered"] is True
    assert len(receiver.received) == 1


def _login(client, key):
    page = client.get("/outcomes/t/acme/admin/login")
    assert page.status_code == 200
    response = client.post("/outcomes/t/acme/admin/login", data={"key": key})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def test_a_revoked_keys_admin_session_ends_at_once(world, client):
    created = call(client, "POST", BASE + "/keys", world.keys["admin"], {"label": "Temp admin", "role": "admin"})
    assert created.status_code == 201
    plain, key_id = created.get_json()["key"], created.get_json()["key_id"]
    listed = call(client, "GET", BASE + "/keys", world.keys["admin"]).get_json()["keys"]
    assert plain not in str(listed) and key_id in {k["key_id"] for k in listed}
    browser = Client(build_gateway())
    _login(browser, plain)
    assert browser.get("/outcomes/t/acme/admin/").status_code == 200
    revoked = call(client, "DELETE", f"{BASE}/keys?key_id={key_id}", world.keys["admin"])
    assert revoked.status_code == 200
    after = browser.get("/outcomes/t/acme/admin/")
    assert after.status_code == 303 and after.headers["Location"].endswith("/admin/login")
    assert call(client, "GET", BASE + "/limits", plain).status_code == 403


def test_a_member_logs_into_the_pages_and_records_but_an_api_only_key_does_not(world, client):
    _login(client, world.keys["member"])
    assert client.get("/outcomes/t/acme/admin/").status_code == 200
    refused = Client(build_gateway()).post("/outcomes/t/acme/admin/login", data={"key": world.keys["integration"]})
    assert refused.status_code == 401


def test_a_page_post_that_is_not_a_members_is_refused_with_a_clear_message(world, monkeypatch):
    from flask import Response
    from werkzeug.routing import Map, Rule

    from oie.outcomes import pages

    # A page that changes a setting (the settings pages come later): admin-only without being listed.
    probe = Rule("/t/<tenant>/admin/settings-probe", methods=["POST"], endpoint="probe")
    monkeypatch.setattr(pages, "PAGES", Map([*(r.empty() for r in pages.PAGES.iter_rules()), probe]))
    monkeypatch.setitem(pages.VIEWS, "probe", lambda page, args: Response("changed"))
    for role, status in (("member", 403), ("admin", 200)):
        browser = Client(build_gateway())
        _login(browser, world.keys[role])
        html = browser.get("/outcomes/t/acme/admin/").get_data(as_text=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        answer = browser.post("/outcomes/t/acme/admin/settings-probe", data={"csrf": csrf})
        assert answer.status_code == status, role
        if role == "member":
            assert "only an admin key may change settings" in answer.get_data(as_text=True)
