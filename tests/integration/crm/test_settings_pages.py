"""Settings → CRM and Settings → Sequencers through the gateway, on the Firestore emulator, with the real
CRM clients against the local CRM servers: connect, options, sync now, disconnect, secrets shown once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from werkzeug.test import Client

from oie.crm.clients import CrmClientFactory
from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from oie.webhooks.sequencers.auth import matches
from tests.factories import create_acme

pytestmark = pytest.mark.firestore
PAGE = "/outcomes/t/acme/admin/settings"


@pytest.fixture
def admin(app, hubspot, salesforce):
    """A logged-in admin of acme and its CSRF token; the CRM clients on the local servers."""
    app.crm_clients = CrmClientFactory(hubspot.base_url, salesforce.base_url)
    create_acme(app.tenants)
    return login(app, "admin")


def login(app, role):
    key = create_key(app.api_keys, "acme", [], f"A {role}", datetime.now(UTC), role=role)
    client = Client(build_gateway())
    assert client.post("/outcomes/t/acme/admin/login", data={"key": key}).status_code == 303
    html = client.get("/outcomes/t/acme/admin/").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def connect_hubspot(client, csrf, token, allow_create="on"):
    form = {"csrf": csrf, "action": "connect", "provider": "hubspot", "token": token, "allow_create": allow_create}
    return client.post(f"{PAGE}/crm", data=form)


def test_an_admin_connects_hubspot_and_the_token_is_kept_as_a_secret_never_shown(app, admin, hubspot):
    client, csrf = admin
    answer = connect_hubspot(client, csrf, hubspot.token)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Connected." in html, html
    assert hubspot.token not in html
    config = app.crm_store.get_config("acme")
    assert (config.provider, config.allow_create, config.secret_ref.startswith("local:")) == ("hubspot", True, True)
    assert hubspot.calls("/crm/v3/properties/contacts/batch/create")  # the engine's fields, made at once
    logged = {c.setting: (c.old, c.new) for c in app.settings_log.recent("acme", 10)}
    assert logged["crm.token"] == ("changed", "changed") and logged["crm.provider"] == (None, "hubspot")


def test_a_refused_token_is_named_and_not_echoed_back(app, admin):
    client, csrf = admin
    answer = connect_hubspot(client, csrf, "wrong-token-123")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "token: the CRM refused the credentials" in html
    assert "wrong-token-123" not in html and app.crm_store.get_config("acme") is None


def test_salesforce_connects_with_the_connected_apps_key_secret_and_my_domain(app, admin, salesforce):
    client, csrf = admin
    form = {
        "csrf": csrf,
        "action": "connect",
        "provider": "salesforce",
        "consumer_key": salesforce.consumer_key,
        "consumer_secret": salesforce.consumer_secret,
        "salesforce_domain": "Acme.my",
    }
    html = client.post(f"{PAGE}/crm", data=form).get_data(as_text=True)
    assert "Connected." in html and salesforce.consumer_secret not in html
    assert app.crm_store.get_config("acme").salesforce_domain == "acme.my"
    bad = client.post(f"{PAGE}/crm", data={**form, "salesforce_domain": "acme.example.com"})
    assert bad.status_code == 400 and "salesforce_domain" in bad.get_data(as_text=True)


def test_options_turn_on_readback_with_the_tenants_stages_and_a_bad_line_is_named(app, admin, hubspot):
    client, csrf = admin
    connect_hubspot(client, csrf, hubspot.token, allow_create="")
    form = {"csrf": csrf, "action": "options", "read_outcomes": "on", "deal_stages": "closedwon = closed_won\nx"}
    bad = client.post(f"{PAGE}/crm", data=form)
    assert bad.status_code == 400 and "deal_stages: line 2" in bad.get_data(as_text=True)
    good = client.post(f"{PAGE}/crm", data={**form, "deal_stages": "contractsent = appointment_set"})
    assert good.status_code == 200 and "CRM options saved." in good.get_data(as_text=True)
    config = app.crm_store.get_config("acme")
    assert (config.read_outcomes, config.deal_stages) == (True, {"contractsent": "appointment_set"})
    assert app.crm_connections.status("acme").schema_ready  # the options kept the connection's fields


def test_sync_now_and_disconnect(app, admin, hubspot):
    client, csrf = admin
    connect_hubspot(client, csrf, hubspot.token)
    synced = client.post(f"{PAGE}/crm", data={"csrf": csrf, "action": "sync"}).get_data(as_text=True)
    assert "Synced now: 0 updated, 0 created" in synced
    gone = client.post(f"{PAGE}/crm", data={"csrf": csrf, "action": "disconnect"}).get_data(as_text=True)
    assert "Disconnected" in gone and 'id="crm-not-connected"' in gone
    assert app.crm_store.get_config("acme") is None


def test_a_member_and_a_forged_form_are_refused(app, admin, hubspot):
    client, _csrf = admin
    assert connect_hubspot(client, "forged", hubspot.token).status_code == 403
    member, member_csrf = login(app, "member")
    for section in ("crm", "sequencers"):
        assert member.get(f"{PAGE}/{section}").status_code == 403
    assert connect_hubspot(member, member_csrf, hubspot.token).status_code == 403
    assert app.crm_store.get_config("acme") is None


def test_a_sequencer_secret_is_shown_once_with_the_url_and_only_its_hash_is_kept(app, admin):
    client, csrf = admin
    html = client.post(f"{PAGE}/sequencers", data={"csrf": csrf, "sequencer": "smartlead"}).get_data(as_text=True)
    secret = re.search(r'id="new-secret-value">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    url = re.search(r'id="new-secret-url">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert url == f"http://smartlead:{secret}@127.0.0.1:8080/webhooks/smartlead/acme"
    assert matches(app.sequencer_secrets.get("acme", "smartlead"), "acme", "smartlead", secret)
    again = client.get(f"{PAGE}/sequencers").get_data(as_text=True)
    assert secret not in again and 'id="sequencer-smartlead"' in again
    instantly = client.post(f"{PAGE}/sequencers", data={"csrf": csrf, "sequencer": "instantly"}).get_data(as_text=True)
    assert "X-OIE-Webhook-Secret" in instantly and "http://127.0.0.1:8080/webhooks/instantly/acme" in instantly
    unknown = client.post(f"{PAGE}/sequencers", data={"csrf": csrf, "sequencer": "mailchimp"})
    assert unknown.status_code == 400 and "sequencer must be one of" in unknown.get_data(as_text=True)


def test_no_crm_or_sequencer_form_answers_500_for_hostile_values(app, admin, hubspot):
    from tests.integration.test_admin_pages import HOSTILE

    client, csrf = admin
    fields = ("token", "consumer_key", "consumer_secret", "salesforce_domain", "deal_stages", "sequencer")
    failures = []
    for connected in (False, True):
        if connected:
            connect_hubspot(client, csrf, hubspot.token)
        for value in HOSTILE:
            for action in ("connect", "options", "sync", value):
                for provider in ("hubspot", "salesforce", value):
                    form = {"csrf": csrf, "action": action, "provider": provider, **dict.fromkeys(fields, value)}
                    answer = client.post(f"{PAGE}/crm", data=form)
                    if answer.status_code >= 500:
                        failures.append((connected, action[:10], provider[:10], value[:20], answer.status_code))
            answer = client.post(f"{PAGE}/sequencers", data={"csrf": csrf, "sequencer": value})
            if answer.status_code >= 500:
                failures.append(("sequencers", value[:20], answer.status_code))
    assert failures == []
