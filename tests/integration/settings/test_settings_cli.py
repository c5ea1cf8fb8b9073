"""`oie sender|limits|alerts|scoring|keys|settings` against the emulator and DuckDB, as a person types them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from oie.cli.main import cli
from oie.errors import Forbidden
from oie.outcomes.auth import authenticate

pytestmark = pytest.mark.firestore


def oie(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(*args: str):
    result = oie(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_limits_are_set_and_shown_as_a_table_or_json(world):
    result = oie("limits", "set", "--tenant", "acme", "--tenant-hourly", "800", "--domain", "gmail.com=40")
    assert result.exit_code == 0 and "limits of acme saved" in result.output
    shown = as_json("limits", "show", "--tenant", "acme")
    assert shown["tenant_hourly"] == 800 and shown["domain_hourly"]["gmail.com"] == 40
    assert "yahoo.com" in shown["domain_hourly"]  # the other defaults stay
    dropped = as_json("limits", "set", "--tenant", "acme", "--remove-domain", "yahoo.com")
    assert "yahoo.com" not in dropped["domain_hourly"] and dropped["tenant_hourly"] == 800
    bad = oie("limits", "set", "--tenant", "acme", "--domain", "not a domain=5")
    assert bad.exit_code == 1 and "[domain_hourly]" in bad.output
    assert oie("limits", "set", "--tenant", "acme").exit_code == 2


def test_keys_are_created_listed_and_revoked(world):
    created = as_json("keys", "create", "--tenant", "acme", "--label", "Sam", "--role", "member")
    actor = authenticate(world.app.api_keys, "acme", "Bearer " + created["key"], "outcomes:read")
    assert actor.role == "member"
    table = oie("keys", "list", "--tenant", "acme")
    assert table.output.splitlines()[0].split()[:3] == ["KEY", "ID", "LABEL"] and created["key_id"] in table.output
    assert created["key"] not in table.output
    assert oie("keys", "revoke", "--tenant", "acme", "--key", created["key_id"]).exit_code == 0
    with pytest.raises(Forbidden):
        authenticate(world.app.api_keys, "acme", "Bearer " + created["key"], "outcomes:read")
    missing = oie("keys", "revoke", "--tenant", "acme", "--key", "0123456789ab")
    assert missing.exit_code == 1 and "no key" in missing.output


def test_alert_channels_are_added_tested_and_removed(world, receiver):
    added = as_json("alerts", "add", "--tenant", "acme", "--kind", "generic", "--url", receiver.url)
    listed = oie("alerts", "list", "--tenant", "acme")
    assert added["channel_id"] in listed.output and receiver.url not in listed.output
    tested = oie("alerts", "test", "--tenant", "acme", "--channel", added["channel_id"])
    assert tested.exit_code == 0 and "test alert delivered to 127.0.0.1" in tested.output
    assert len(receiver.received) == 1
    receiver.status = 500
    world.app.hot_lead_alerts.backoff = 0
    failed = oie("alerts", "test", "--tenant", "acme", "--channel", added["channel_id"])
    assert failed.exit_code == 69 and "status 500" in failed.output
    assert oie("alerts", "remove", "--tenant", "acme", "--channel", added["channel_id"]).exit_code == 0
    assert as_json("alerts", "list", "--tenant", "acme") == []


def test_scoring_is_shown_previewed_and_set(world):
    shown = as_json("scoring", "show", "--tenant", "acme")
    assert shown["weights_are_default"] and shown["weights"]["hot_min"] == 60.0
    preview = oie("scoring", "preview", "--tenant", "acme", "--set", "hot_min=55")
    assert preview.exit_code == 0 and "0 of 0 scored leads would change level" in preview.output
    bad = oie("scoring", "set", "--tenant", "acme", "--set", "hot_min=95")
    assert bad.exit_code == 1 and "thresholds must rise" in bad.output
    saved = as_json("scoring", "set", "--tenant", "acme", "--set", "hot_min=55")
    assert saved["weights"]["hot_min"] == 55.0 and saved["preview"]["would_change"] == 0


def test_senders_are_added_listed_and_removed(world):
    added = oie("sender", "add", "--tenant", "acme", "--id", "ann", "--from", "ann@acme.com", "--ip-pool", "p1")
    assert added.exit_code == 0 and "unverified (local)" in added.output
    listed = as_json("sender", "list", "--tenant", "acme")
    assert [(s["sender_id"], s["verification"], s["warmup_cap_today"]) for s in listed] == [
        ("ann", "unverified (local)", 50)
    ]
    assert oie("sender", "remove", "--tenant", "acme", "--id", "ann").exit_code == 0
    assert "no senders" in oie("sender", "list", "--tenant", "acme").output
    local = as_json("sender", "add", "--tenant", "acme", "--id", "bob", "--from", "bob@acme.com", "--assume-verified")
    assert local["verification"] == "verified (assumed, local)"
    assert world.app.campaign_senders.get("acme", "bob").verification == "verified"  # the outbox may send


def test_the_settings_log_shows_who_changed_what(world):
    assert (
        oie("settings", "set", "--tenant", "acme", "--reply-domain", "reply.acme.com", "--privacy", "hash").exit_code
        == 0
    )
    shown = as_json("settings", "show", "--tenant", "acme")
    assert (shown["reply_domain"], shown["ip_mode"]) == ("reply.acme.com", "hash")
    log = oie("settings", "log", "--tenant", "acme")
    assert log.output.splitlines()[0].split() == ["AT", "KEY", "NAME", "SETTING", "OLD", "NEW"]
    assert "reply_domain" in log.output and "cli:" in log.output
    entries = as_json("settings", "log", "--tenant", "acme")
    assert {e["setting"] for e in entries} == {"reply_domain", "ip_mode"}
    assert oie("settings", "log", "--tenant", "nobody").exit_code == 1


def test_a_raw_tenant_update_is_logged_too_with_credentials_masked(world):
    hook = '{"kind":"slack","url":"https://hooks.slack.com/services/T0/B0/secret"}'
    assert oie("tenant", "update", "--tenant", "acme", "--add", f"alert_channels={hook}").exit_code == 0
    assert oie("tenant", "update", "--tenant", "acme", "--set", "retention_days=90").exit_code == 0
    entries = {e["setting"]: e for e in as_json("settings", "log", "--tenant", "acme")}
    assert entries["retention_days"]["old"] == 730 and entries["retention_days"]["new"] == 90
    assert entries["alert_channels"]["new"] == "changed" and "secret" not in json.dumps(entries)


def test_scoring_takes_weights_and_page_rules_from_a_file(world, tmp_path):
    wanted = {"weights": {"per_pricing_view": 12}, "page_rules": [{"page_class": "pricing", "path_pattern": "/tarifs"}]}
    (tmp_path / "scoring.json").write_text(json.dumps(wanted))
    saved = as_json("scoring", "set", "--tenant", "acme", "--file", str(tmp_path / "scoring.json"))
    assert saved["weights"]["per_pricing_view"] == 12.0 and saved["weights"]["hot_min"] == 60.0
    assert saved["page_rules"] == wanted["page_rules"] and not saved["page_rules_are_default"]
    (tmp_path / "bad.json").write_text(
        json.dumps({"page_rules": [{"page_class": "pricing", "path_pattern": "(?<=x)"}]})
    )
    bad = oie("scoring", "set", "--tenant", "acme", "--file", str(tmp_path / "bad.json"))
    assert bad.exit_code == 1 and "[page_rules.0.path_pattern]" in bad.output
    keys = as_json("keys", "list", "--tenant", "acme")
    assert keys and all("hash" not in k for k in keys)
