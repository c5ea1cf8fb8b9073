"""The settings service on the Firestore emulator and DuckDB: every rule, role and change-log entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oie.alerts.payload import verify
from oie.alerts.service import alert_signing_key
from oie.configuration.models import (
    AlertChannelIn,
    KeyIn,
    LimitsIn,
    PageRule,
    ScoringIn,
    SenderIn,
    TenantSettingsIn,
)
from oie.errors import Forbidden, InputError, NotFound
from oie.outcomes.auth import authenticate
from tests.integration.settings.conftest import NOW, body_json, p256_key, p384_key, rsa_key

pytestmark = pytest.mark.firestore


def test_a_member_may_change_no_setting(world):
    service, member = world.app.settings_service, world.member
    attempts = [
        lambda: service.set_limits("acme", LimitsIn(tenant_hourly=10, domain_hourly={"*": 5}), member),
        lambda: service.add_alert_channel(
            "acme", AlertChannelIn(kind="slack", url="https://hooks.slack.com/x"), member
        ),
        lambda: world.app.key_settings.create_api_key("acme", KeyIn(label="x", role="admin"), member),
        lambda: world.app.key_settings.revoke_api_key("acme", world.admin.key_id, member),
        lambda: service.update_tenant_settings("acme", TenantSettingsIn(ip_mode="none"), member),
        lambda: world.app.sender_settings.add_sender("acme", SenderIn(sender_id="s1", from_email="a@acme.com"), member),
        lambda: world.app.scoring_settings.set("acme", ScoringIn(weights=_defaults(world)), member),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert "only an admin key" in refused.value.message
    assert service.changes("acme", world.admin) == []


def test_a_key_from_before_roles_is_an_admin_but_an_integration_key_stays_limited(world):
    legacy = authenticate(world.app.api_keys, "acme", "Bearer " + world.keys["legacy"], "admin")
    assert legacy.role == "admin" and legacy.is_admin and legacy.may_log_in
    integration = authenticate(world.app.api_keys, "acme", "Bearer " + world.keys["integration"], "outcomes:write")
    assert integration.role == "admin" and not integration.is_admin and not integration.may_log_in
    with pytest.raises(Forbidden):
        world.app.settings_service.limits("acme", integration)


def test_limits_are_validated_saved_and_logged_with_who_and_what(world):
    service = world.app.settings_service
    assert service.limits("acme", world.admin).tenant_hourly == 5_000
    with pytest.raises(Exception) as bad:
        LimitsIn(tenant_hourly=100, domain_hourly={"not a domain": 5})
    assert "domain_hourly" in str(bad.value)
    saved = service.set_limits(
        "acme", LimitsIn(tenant_hourly=900, domain_hourly={"Gmail.com": 50, "*": 100}), world.admin
    )
    assert saved.domain_hourly == {"gmail.com": 50, "*": 100} and saved.tenant_shards == 8
    assert world.app.campaign_senders.limits("acme").tenant_hourly == 900
    assert world.app.campaign_senders.limits("beta").tenant_hourly == 5_000
    log = service.changes("acme", world.admin)
    by_setting = {c.setting: c for c in log}
    assert by_setting["limits.tenant_hourly"].old == 5_000 and by_setting["limits.tenant_hourly"].new == 900
    entry = by_setting["limits.domain_hourly"]
    assert (entry.key_id, entry.key_name, entry.at) == (world.admin.key_id, "Ann Admin", NOW)
    assert entry.new == {"gmail.com": 50, "*": 100}
    assert service.changes("beta", world.app.settings_service and _admin_of(world, "beta")) == []


def _admin_of(world, tenant):
    return authenticate(world.app.api_keys, tenant, "Bearer " + world.keys[tenant], "admin")


def test_the_change_log_lists_newest_first(world):
    service = world.app.settings_service
    for hourly in (100, 200, 300):
        world.app.clock.advance(seconds=1)
        service.set_limits("acme", LimitsIn(tenant_hourly=hourly, domain_hourly={"*": 10}), world.admin)
    hourly_changes = [c.new for c in service.changes("acme", world.admin) if c.setting == "limits.tenant_hourly"]
    assert hourly_changes == [300, 200, 100]
    assert len(service.changes("acme", world.admin, limit=2)) == 2


def test_an_alert_channel_is_added_listed_tested_for_real_and_removed_without_logging_its_url(world, receiver):
    service = world.app.settings_service
    added = service.add_alert_channel(
        "acme", AlertChannelIn(kind="generic", url=receiver.url, min_level="warm"), world.admin
    )
    assert service.alert_channels("acme", world.admin) == [added]
    with pytest.raises(InputError):
        service.add_alert_channel("acme", AlertChannelIn(kind="generic", url=receiver.url), world.admin)
    result = service.test_alert_channel("acme", added["channel_id"], world.admin)
    assert result["delivered"] is True and result["error"] == ""
    (delivery,) = receiver.received
    key = alert_signing_key(world.app.secrets, world.app.tenants.get("acme"))
    assert verify(key, delivery[1], delivery[0])
    assert body_json(delivery)["test"] is True and body_json(delivery)["type"] == "lead.level_changed"
    world.app.clock.advance(seconds=1)
    service.remove_alert_channel("acme", added["channel_id"], world.admin)
    assert service.alert_channels("acme", world.admin) == []
    with pytest.raises(NotFound):
        service.test_alert_channel("acme", added["channel_id"], world.admin)
    logged = [c for c in service.changes("acme", world.admin) if c.setting.startswith("alert_channels.")]
    assert [c.new is None for c in logged] == [True, False]
    assert receiver.url not in str([c.model_dump() for c in logged])


def test_a_test_alert_that_is_refused_says_so(world, receiver):
    receiver.status = 404
    service = world.app.settings_service
    added = service.add_alert_channel("acme", AlertChannelIn(kind="slack", url=receiver.url), world.admin)
    result = service.test_alert_channel("acme", added["channel_id"], world.admin)
    assert result == {**added, "delivered": False, "error": "status 404"}
    assert "Test alert" in body_json(receiver.received[0])["text"]


def test_the_webhook_key_must_be_an_ecdsa_p256_public_key_and_is_logged_by_fingerprint(world):
    for bad in (p384_key(), rsa_key(), "bm90IGEga2V5", "%%%"):
        with pytest.raises(ValueError, match="sendgrid_webhook_public_key"):
            TenantSettingsIn(sendgrid_webhook_public_key=bad)
    key = p256_key()
    service = world.app.settings_service
    shown = service.update_tenant_settings(
        "acme",
        TenantSettingsIn(
            sendgrid_webhook_public_key=key,
            reply_domain="Reply.Acme.com",
            allowed_origins=("https://www.acme.com",),
            ip_mode="hash",
        ),
        world.admin,
    )
    assert shown["sendgrid_webhook_key"].startswith("sha256:") and shown["reply_domain"] == "reply.acme.com"
    tenant = world.app.tenants.get("acme")
    assert (tenant.sendgrid_webhook_public_key, tenant.ip_mode, tenant.allowed_origins) == (
        key,
        "hash",
        ("https://www.acme.com",),
    )
    logged = {c.setting: c for c in service.changes("acme", world.admin)}
    assert set(logged) == {"sendgrid_webhook_public_key", "reply_domain", "allowed_origins", "ip_mode"}
    assert logged["ip_mode"].old == "truncate" and logged["allowed_origins"].new == ["https://www.acme.com"]
    assert key not in str(logged["sendgrid_webhook_public_key"].model_dump())
    from oie.webhooks.signature import _public_key

    assert _public_key(tenant.sendgrid_webhook_public_key).curve.name == "secp256r1"  # what the webhook loads


def test_keys_are_created_once_listed_without_secrets_and_revoked(world):
    service = world.app.key_settings
    log = world.app.settings_service
    created = service.create_api_key("acme", KeyIn(label="New SDR", role="member"), world.admin)
    actor = authenticate(world.app.api_keys, "acme", "Bearer " + created["key"], "outcomes:write")
    assert actor.role == "member" and not actor.is_admin
    listed = {k["key_id"]: k for k in service.api_keys("acme", world.admin)}
    assert listed[created["key_id"]]["role"] == "member" and "hash" not in listed[created["key_id"]]
    assert created["key"].split(".")[1] not in str(listed)
    world.app.clock.advance(seconds=1)
    service.revoke_api_key("acme", created["key_id"], world.admin)
    with pytest.raises(Forbidden):
        authenticate(world.app.api_keys, "acme", "Bearer " + created["key"], "outcomes:read")
    assert {k["key_id"]: k["revoked"] for k in service.api_keys("acme", world.admin)}[created["key_id"]]
    with pytest.raises(NotFound):
        service.revoke_api_key("beta", created["key_id"], _admin_of(world, "beta"))  # not beta's key
    logged = [c for c in log.changes("acme", world.admin) if c.setting == f"api_keys.{created['key_id']}"]
    assert [c.new for c in logged] == [{"revoked": True}, {"label": "New SDR", "role": "member"}]
    assert created["key"] not in str([c.model_dump() for c in logged])


def test_revoking_a_key_ends_its_admin_sessions_at_once(world):
    sessions = world.app.admin_sessions
    cookie, _ = sessions.issue("acme", world.admin)
    assert sessions.read("acme", cookie)[0].key_id == world.admin.key_id  # cached now
    other = authenticate(world.app.api_keys, "acme", "Bearer " + world.keys["legacy"], "admin")
    world.app.key_settings.revoke_api_key("acme", world.admin.key_id, other)
    assert sessions.read("acme", cookie) is None


def test_another_process_sees_a_revocation_within_the_cache_time(world):
    from oie.outcomes.auth import Sessions

    other_process = Sessions(world.app.derived_key("admin-session"), keys=world.app.api_keys, ttl=0.2)
    cookie, _ = world.app.admin_sessions.issue("acme", world.member)
    assert other_process.read("acme", cookie)[0].role == "member"
    world.app.key_settings.revoke_api_key("acme", world.member.key_id, world.admin)
    import time

    time.sleep(0.25)
    assert other_process.read("acme", cookie) is None


def test_senders_show_their_verification_limits_and_warmup_pool(world):
    service = world.app.sender_settings
    log = world.app.settings_service
    with pytest.raises(ValueError, match="hourly_limit"):
        SenderIn(sender_id="s1", from_email="ann@acme.com", daily_limit=10, hourly_limit=20)
    with pytest.raises(ValueError, match="from_email"):
        SenderIn(sender_id="s1", from_email="not-an-email")
    saved = service.add_sender(
        "acme",
        SenderIn(sender_id="ann", from_email="Ann@Acme.com", from_name="Ann", daily_limit=200, ip_pool="pool1"),
        world.admin,
    )
    assert saved["verification"] == "unverified (local)" and saved["from_email"] == "ann@acme.com"
    (row,) = service.senders_of("acme", world.admin)
    assert (row["daily_limit"], row["warmup_started_on"], row["warmup_cap_today"]) == (200, "2026-03-02", 50)
    world.app.clock.advance(days=2)
    assert service.senders_of("acme", world.admin)[0]["warmup_cap_today"] == 200
    service.remove_sender("acme", "ann", world.admin)
    assert service.senders_of("acme", world.admin) == []
    settings = {c.setting for c in log.changes("acme", world.admin)}
    assert settings == {"senders.ann", "ip_pools.pool1"}


def test_with_sendgrid_a_sender_shows_the_state_sendgrid_gives(world):
    class SendGridSays:
        def states(self):
            return {"ann@acme.com": "verified", "bob@acme.com": "pending"}

    service = world.app.sender_settings
    service.verification = SendGridSays()
    service.add_sender("acme", SenderIn(sender_id="ann", from_email="ann@acme.com"), world.admin)
    service.add_sender("acme", SenderIn(sender_id="bob", from_email="bob@acme.com"), world.admin)
    service.add_sender("acme", SenderIn(sender_id="cy", from_email="cy@acme.com"), world.admin)
    shown = {r["sender_id"]: r["verification"] for r in service.senders_of("acme", world.admin)}
    assert shown == {"ann": "verified", "bob": "pending", "cy": "not in SendGrid"}
    assert world.app.campaign_senders.get("acme", "ann").verification == "verified"
    with pytest.raises(InputError):
        service.add_sender(
            "acme", SenderIn(sender_id="cy", from_email="cy@acme.com"), world.admin, assume_verified=True
        )


# -- scoring --


def _defaults(world):
    from oie.configuration.models import ScoringWeights

    return ScoringWeights.model_validate(world.app.scoring_settings.show("acme", world.admin)["weights"])


def _profile(lead_id, score_parts, level, *, tenant="acme", evidence="verified"):
    """A stored profile: 2 sessions, the given pageviews and pricing views, active an hour before scoring."""
    pageviews, pricing = score_parts
    return {
        "tenant_id": tenant,
        "lead_id": lead_id,
        "sessions": 2,
        "pageviews": pageviews,
        "active_minutes": 0.0,
        "scroll_milestones": 0,
        "pricing_views": pricing,
        "case_study_views": 0,
        "product_views": 0,
        "forms_submitted": 0,
        "videos_completed": 0,
        "first_seen_at": NOW - timedelta(days=2),
        "last_activity_at": NOW - timedelta(hours=1),
        "recency_points": 30.0,
        "frequency_points": 8.0,
        "engagement_points": 0.0,
        "high_intent_points": 0.0,
        "conversion_points": 0.0,
        "score": 0.0,
        "level": level,
        "previous_level": None,
        "level_changed_at": NOW,
        "scored_at": NOW,
        "evidence_level": evidence,
    }


@pytest.fixture
def profiles(world):
    # Default weights: recency 30 + 2 sessions x 4 = 38, + 1.5 per pageview, + 8 per pricing view.
    rows = [
        _profile("cold1", (0, 0), "cold"),  # 38
        _profile("warm1", (2, 0), "warm"),  # 41
        _profile("warm2", (4, 1), "warm"),  # 52
        _profile("hot1", (2, 2), "hot"),  # 41 + 16 = 57: warm by these weights, stored hot by older ones
        _profile("idonly", (4, 3), "warm", evidence="id_only"),  # 38 + 6 + 24 = 68, held at warm
        _profile("other", (0, 0), "cold", tenant="beta"),
    ]
    world.app.warehouse.upsert_rows("lead_profiles", rows, key_fields=("tenant_id", "lead_id"))
    return rows


def test_the_preview_counts_the_leads_whose_level_would_change(world, profiles):
    scoring = world.app.scoring_settings
    weights = _defaults(world)
    same = scoring.preview("acme", ScoringIn(weights=weights), world.admin)
    assert same == {"leads": 5, "would_change": 1, "changes": [{"from_level": "hot", "to_level": "warm", "leads": 1}]}
    lower = weights.model_copy(update={"warm_min": 38.0, "hot_min": 50.0})
    preview = scoring.preview("acme", ScoringIn(weights=lower), world.admin)
    assert preview["leads"] == 5
    assert {(c["from_level"], c["to_level"]): c["leads"] for c in preview["changes"]} == {
        ("cold", "warm"): 1,
        ("warm", "hot"): 1,
    }
    assert preview["would_change"] == 2  # the id-only lead stays held at warm, hot1 is hot under these weights


def test_scoring_weights_are_validated_saved_for_the_tenant_only_and_logged(world, profiles):
    from oie.configuration.models import ScoringWeights

    scoring = world.app.scoring_settings
    base = _defaults(world).model_dump()
    with pytest.raises(ValueError, match="thresholds must rise"):
        ScoringWeights.model_validate({**base, "hot_min": 90.0})
    with pytest.raises(ValueError, match="per_session"):
        ScoringWeights.model_validate({**base, "per_session": -1})
    with pytest.raises(ValueError, match="look-arounds"):
        PageRule(page_class="pricing", path_pattern="(?=x)/pricing")
    with pytest.raises(ValueError, match="not a regular expression"):
        PageRule(page_class="pricing", path_pattern="/pricing(")
    wanted = ScoringIn(
        weights=ScoringWeights.model_validate({**base, "per_pricing_view": 10.0}),
        page_rules=(PageRule(page_class="pricing", path_pattern="(?i)/tarifs"),),
    )
    saved = scoring.set("acme", wanted, world.admin)
    assert saved["weights"]["per_pricing_view"] == 10.0 and not saved["weights_are_default"]
    assert saved["page_rules"] == [{"page_class": "pricing", "path_pattern": "(?i)/tarifs"}]
    assert "would_change" in saved["preview"]
    beta = scoring.show("beta", _admin_of(world, "beta"))
    assert beta["weights"]["per_pricing_view"] == 8.0 and beta["weights_are_default"] and beta["page_rules_are_default"]
    logged = {c.setting: c for c in world.app.settings_service.changes("acme", world.admin)}
    assert logged["scoring.weights"].old == {"per_pricing_view": 8.0}
    assert logged["scoring.weights"].new == {"per_pricing_view": 10.0}
    assert logged["scoring.page_rules"].new == [{"page_class": "pricing", "path_pattern": "(?i)/tarifs"}]
    # The score job reads the tenant's own row now.
    (row,) = world.app.warehouse.sql("select per_pricing_view from scoring_config where tenant_id = 'acme'")
    assert row["per_pricing_view"] == 10.0


def test_an_unknown_tenant_is_not_found(world):
    with pytest.raises(NotFound):
        world.app.settings_service.limits("nobody", world.admin)
