"""The Settings pages through the gateway (Firestore emulator, DuckDB): every form saves and shows what
changed, a refused one keeps what was typed and names the field, a member is refused, CSRF is required."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from tests.integration.settings.conftest import p256_key, receiver, world  # noqa: F401
from tests.integration.settings.test_settings_service import profiles  # noqa: F401
from tests.integration.test_admin_pages import HOSTILE

pytestmark = pytest.mark.firestore
URL = "/outcomes/t/acme/admin"
SECTIONS = ("senders", "limits", "alerts", "tenant", "scoring", "keys", "log")


def login(key):
    client = Client(build_gateway())
    assert client.post(f"{URL}/login", data={"key": key}).status_code == 303
    html = client.get(f"{URL}/campaigns").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def admin(world):  # noqa: F811
    return login(world.keys["admin"])


def post(admin, section, **form):
    client, csrf = admin
    return client.post(f"{URL}/settings/{section}", data={"csrf": csrf, **form})


def test_every_settings_page_opens_for_an_admin_and_the_nav_links_them(admin):
    client, _csrf = admin
    assert client.get(f"{URL}/settings").headers["Location"].endswith("/settings/senders")
    for name in SECTIONS:
        response = client.get(f"{URL}/settings/{name}")
        assert response.status_code == 200, name
        assert f'href="/outcomes/t/acme/admin/settings/{name}"' in text(response)
    assert client.get(f"{URL}/settings/nope").status_code == 404


def test_a_member_is_refused_every_settings_page_with_a_clear_403(world):  # noqa: F811
    client, csrf = login(world.keys["member"])
    assert ">Settings</a>" not in text(client.get(f"{URL}/campaigns"))  # not offered in the nav
    for name in SECTIONS:
        for response in (
            client.get(f"{URL}/settings/{name}"),
            client.post(f"{URL}/settings/{name}", data={"csrf": csrf, "tenant_hourly": "1"}),
        ):
            assert response.status_code == 403, name
            assert "only an admin key may" in text(response).lower()
    assert world.app.settings_service.changes("acme", world.admin) == []


def test_every_settings_form_needs_the_session_csrf_token(world, admin):  # noqa: F811
    client, _csrf = admin
    for name in SECTIONS:
        response = client.post(f"{URL}/settings/{name}", data={"csrf": "forged", "tenant_hourly": "7"})
        assert response.status_code == 403, name
    assert world.app.settings_service.changes("acme", world.admin) == []


def test_limits_are_saved_with_what_changed_and_a_bad_line_keeps_the_typed_text(world, admin):  # noqa: F811
    saved = post(admin, "limits", tenant_hourly="400", domain_hourly="gmail.com 100\n* 50")
    assert saved.status_code == 200
    assert "Limits saved." in text(saved) and "limits.tenant_hourly" in text(saved) and "→ 400" in text(saved)
    limits = world.app.settings_service.limits("acme", world.admin)
    assert limits.tenant_hourly == 400 and limits.domain_hourly == {"gmail.com": 100, "*": 50}

    refused = post(admin, "limits", tenant_hourly="300", domain_hourly="gmail.com lots\nyahoo.com 9")
    assert refused.status_code == 400
    assert "domain_hourly: line 1" in text(refused) and "gmail.com lots\nyahoo.com 9</textarea>" in text(refused)
    zero = post(admin, "limits", tenant_hourly="0", domain_hourly="")
    assert zero.status_code == 400 and "tenant_hourly:" in text(zero) and 'value="0"' in text(zero)
    assert world.app.settings_service.limits("acme", world.admin).tenant_hourly == 400


def test_a_sender_is_added_listed_refused_when_invalid_and_removed(world, admin):  # noqa: F811
    added = post(
        admin,
        "senders",
        action="add",
        sender_id="sam",
        from_email="Sam@Acme.com",
        from_name="Sam",
        daily_limit="200",
        hourly_limit="40",
        ip_pool="warm1",
        warmup_daily_caps="20, 40, 80",
        assume_verified="on",
    )
    assert added.status_code == 200 and "senders.sam" in text(added)
    page = text(admin[0].get(f"{URL}/settings/senders"))
    assert "sam@acme.com" in page and "verified (assumed, local)" in page and "today's cap 20" in page

    refused = post(admin, "senders", action="add", sender_id="bad", from_email="not-an-address", daily_limit="9")
    assert refused.status_code == 400
    assert "from_email:" in text(refused) and 'value="not-an-address"' in text(refused) and 'value="9"' in text(refused)
    hour = post(
        admin, "senders", action="add", sender_id="x", from_email="x@acme.com", daily_limit="5", hourly_limit="9"
    )
    assert hour.status_code == 400 and "hourly_limit cannot exceed daily_limit" in text(hour)

    removed = post(admin, "senders", action="remove", sender_id="sam")
    assert removed.status_code == 200 and "Removed sam." in text(removed)
    assert "No sender yet" in text(removed)
    assert post(admin, "senders", action="remove", sender_id="sam").status_code == 404


def test_an_alert_channel_is_added_tested_with_its_result_shown_and_removed(world, admin, receiver):  # noqa: F811
    added = post(admin, "alerts", action="add", kind="generic", url=receiver.url, min_level="hot")
    assert added.status_code == 200 and "Channel added." in text(added)
    assert receiver.url not in text(added)  # only the host: a webhook URL is a credential
    (channel,) = world.app.settings_service.alert_channels("acme", world.admin)
    tested = post(admin, "alerts", action="test", channel_id=channel["channel_id"])
    assert "Test alert delivered" in text(tested) and len(receiver.received) == 1
    receiver.status = 500
    failed = post(admin, "alerts", action="test", channel_id=channel["channel_id"])
    assert failed.status_code == 200 and "was not delivered" in text(failed)

    refused = post(admin, "alerts", action="add", kind="slack", url="ftp://nope", min_level="hot")
    assert refused.status_code == 400 and "url:" in text(refused) and 'value="ftp://nope"' in text(refused)
    removed = post(admin, "alerts", action="remove", channel_id=channel["channel_id"])
    assert removed.status_code == 200 and "No alert channel yet" in text(removed)


def test_the_webhook_key_reply_domain_origins_and_privacy_mode_are_saved_and_the_key_never_echoed(world, admin):  # noqa: F811
    key = p256_key()
    saved = post(
        admin,
        "tenant",
        sendgrid_webhook_public_key=key,
        reply_domain="Reply.Acme.com",
        allowed_origins="https://www.acme.com\n",
        ip_mode="hash",
    )
    assert saved.status_code == 200 and "Settings saved." in text(saved)
    assert key not in text(saved) and "sha256:" in text(saved)
    current = world.app.settings_service.tenant_settings("acme", world.admin)
    assert current["reply_domain"] == "reply.acme.com" and current["ip_mode"] == "hash"

    refused = post(admin, "tenant", sendgrid_webhook_public_key="not a key", reply_domain="nope", ip_mode="hash")
    assert refused.status_code == 400 and "sendgrid_webhook_public_key:" in text(refused)
    assert "not a key</textarea>" in text(refused)  # what was typed, kept to correct it
    bad_mode = post(admin, "tenant", ip_mode="everything", allowed_origins="")
    assert bad_mode.status_code == 400 and "ip_mode:" in text(bad_mode)


def _weights_form(admin):
    html = text(admin[0].get(f"{URL}/settings/scoring"))
    fields = dict(re.findall(r'<input name="([a-z0-9_]+)" inputmode="decimal" value="([^"]*)"', html))
    rules = re.search(r'name="page_rules" rows="6">([^<]*)</textarea>', html).group(1)
    return {**fields, "id_only_max_level": "warm", "page_rules": rules}


def test_scoring_shows_how_many_leads_would_change_before_it_saves(world, admin, profiles):  # noqa: F811
    form = {**_weights_form(admin), "warm_min": "38", "hot_min": "50"}
    preview = post(admin, "scoring", step="preview", **form)
    assert preview.status_code == 200 and "2 of 5 scored leads would change level" in text(preview)
    assert "cold → warm: 1" in text(preview) and 'value="save"' in text(preview)
    assert world.app.settings_service.changes("acme", world.admin) == []  # nothing saved by a preview
    token = re.search(r'name="previewed" value="([^"]+)"', text(preview)).group(1)

    # Save with values other than those previewed: previewed again instead of saved.
    changed = post(admin, "scoring", step="save", previewed=token, **{**form, "hot_min": "55"})
    assert "would change level" in text(changed) and world.app.settings_service.changes("acme", world.admin) == []

    saved = post(admin, "scoring", step="save", previewed=token, **form)
    assert saved.status_code == 200 and "Scoring saved." in text(saved) and "scoring.weights" in text(saved)
    assert world.app.scoring_settings.show("acme", world.admin)["weights"]["hot_min"] == 50.0

    refused = post(admin, "scoring", step="preview", **{**form, "hot_min": "90"})
    assert refused.status_code == 400 and "thresholds must rise" in text(refused) and 'value="90"' in text(refused)
    bad_rule = post(admin, "scoring", step="preview", **{**form, "page_rules": "pricing (?=x)"})
    assert (
        bad_rule.status_code == 400
        and "look-arounds" in text(bad_rule)
        and "pricing (?=x)</textarea>" in text(bad_rule)
    )


def test_a_key_is_shown_once_and_revoking_it_ends_its_session_at_once(world, admin):  # noqa: F811
    created = post(admin, "keys", action="create", label="New SDR", role="member")
    assert created.status_code == 200
    key = re.search(r'id="new-key">([^<]+)</code>', text(created)).group(1)
    assert key.startswith("oie_") and key not in text(admin[0].get(f"{URL}/settings/keys"))  # shown once
    sdr, _csrf = login(key)
    assert sdr.get(f"{URL}/campaigns").status_code == 200

    key_id = key.removeprefix("oie_").split(".")[0]
    revoked = post(admin, "keys", action="revoke", key_id=key_id)
    assert revoked.status_code == 200 and f"Revoked key {key_id}." in text(revoked)
    ended = sdr.get(f"{URL}/campaigns")
    assert ended.status_code == 303 and ended.headers["Location"].endswith("/login")

    refused = post(admin, "keys", action="create", label="", role="owner")
    assert refused.status_code == 400 and "label:" in text(refused)
    assert post(admin, "keys", action="revoke", key_id="0123456789ab").status_code == 404


def test_the_change_log_shows_who_when_old_and_new(world, admin):  # noqa: F811
    post(admin, "limits", tenant_hourly="123", domain_hourly="* 10")
    html = text(admin[0].get(f"{URL}/settings/log"))
    assert "Ann Admin" in html and "limits.tenant_hourly" in html and "5000" in html and "123" in html


def test_no_settings_form_answers_500_for_hostile_values(world, admin):  # noqa: F811
    fields = (
        "action",
        "sender_id",
        "from_email",
        "daily_limit",
        "warmup_started_on",
        "warmup_daily_caps",
        "tenant_hourly",
        "domain_hourly",
        "kind",
        "url",
        "min_level",
        "channel_id",
        "sendgrid_webhook_public_key",
        "reply_domain",
        "allowed_origins",
        "ip_mode",
        "step",
        "previewed",
        "hot_min",
        "page_rules",
        "label",
        "role",
        "key_id",
    )
    failures = []
    for name in SECTIONS:
        for value in HOSTILE:
            response = post(admin, name, **dict.fromkeys(fields, value))
            if response.status_code >= 500:
                failures.append((name, value[:20], response.status_code))
    client, csrf = admin
    for bad in ("..", "__x__", "%00", "a" * 600, "%2e%2e", "senders%2f..", "LOG"):
        for method in ("GET", "POST"):
            response = client.open(f"{URL}/settings/{bad}", method=method, data={"csrf": csrf})
            if response.status_code not in (404, 405):
                failures.append((method, bad[:20], response.status_code))
    assert failures == []
