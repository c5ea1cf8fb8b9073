from datetime import UTC, datetime, timedelta

import pytest

from oie.errors import Conflict, Forbidden, InputError, Unauthenticated
from oie.outcomes import rules
from oie.outcomes.auth import Sessions, authenticate, create_key
from oie.outcomes.models import LeadState, OutcomeConfig, OutcomeIn
from oie.outcomes.service import clean_attributes
from oie.outcomes.win_rates import WinRateQuery, last_complete_week, week_range

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday
CONFIG = OutcomeConfig()


def item(outcome_type="contacted", **kw):
    return OutcomeIn(lead_id="ld_0000000000000001", outcome_type=outcome_type, **kw)


def state_after(*types):
    state = LeadState()
    for n, t in enumerate(types):
        state = rules.next_state(state, t, CONFIG.types[t], NOW - timedelta(days=10 - n))
    return state


def test_an_unknown_type_is_refused_naming_the_tenants_types():
    with pytest.raises(InputError) as error:
        rules.check(item("meeting"), LeadState(), CONFIG, NOW, may_override=False)
    assert error.value.field == "outcome_type" and "closed_won" in error.value.message


def test_the_future_is_refused_beyond_a_small_clock_skew():
    rules.check(item(occurred_at=NOW + timedelta(minutes=4)), LeadState(), CONFIG, NOW, may_override=False)
    with pytest.raises(InputError) as error:
        rules.check(item(occurred_at=NOW + timedelta(minutes=6)), LeadState(), CONFIG, NOW, may_override=False)
    assert error.value.field == "occurred_at"


def test_a_time_without_zone_is_refused():
    with pytest.raises(InputError, match="time zone"):
        rules.check(item(occurred_at=datetime(2026, 3, 1, 12, 0)), LeadState(), CONFIG, NOW, may_override=False)


def test_won_after_lost_is_blocked_without_override():
    with pytest.raises(Conflict) as error:
        rules.check(item("closed_won"), state_after("contacted", "closed_lost"), CONFIG, NOW, may_override=True)
    assert error.value.field == "outcome_type"


def test_lost_after_won_is_blocked_too():
    with pytest.raises(Conflict):
        rules.check(item("closed_lost"), state_after("contacted", "closed_won"), CONFIG, NOW, may_override=True)


def test_only_an_admin_may_override_and_the_override_is_recorded_as_a_warning():
    state = state_after("contacted", "closed_lost")
    with pytest.raises(Conflict) as error:
        rules.check(item("closed_won", override=True), state, CONFIG, NOW, may_override=False)
    assert error.value.field == "override"
    stage, _, warnings = rules.check(item("closed_won", override=True), state, CONFIG, NOW, may_override=True)
    assert stage == "won" and warnings == ["override: lead was closed as lost"]


def test_an_appointment_before_contact_is_allowed_with_a_sequence_warning():
    stage, _, warnings = rules.check(item("appointment_set"), LeadState(), CONFIG, NOW, may_override=False)
    assert stage == "mid_funnel" and warnings == ["sequence_warning: no contacted outcome before this one"]


def test_anything_after_invalid_is_allowed_with_a_warning():
    _, _, warnings = rules.check(item("contacted"), state_after("invalid"), CONFIG, NOW, may_override=False)
    assert warnings == ["sequence_warning: lead was marked invalid"]


def test_state_follows_the_latest_outcome_but_never_slides_back_down_the_funnel():
    state = state_after("contacted", "appointment_set", "contacted")
    assert (state.current_stage, state.contacted, state.outcome_count) == ("mid_funnel", True, 3)
    assert state_after("contacted", "closed_lost").is_lost


def test_a_tenant_can_replace_the_types_but_needs_a_won_and_a_lost():
    b2b = OutcomeConfig(
        types={
            "meeting_booked": "top_of_funnel",
            "opportunity": "mid_funnel",
            "proposal": "mid_funnel",
            "won": "won",
            "lost": "lost",
        }
    )
    assert rules.check(item("opportunity"), state_after(), b2b, NOW, may_override=False)[0] == "mid_funnel"
    with pytest.raises(ValueError, match="won and one lost"):
        OutcomeConfig(types={"meeting": "top_of_funnel"})


def test_outcome_ids_are_the_clients_or_derived_from_the_outcome():
    assert rules.outcome_id_for("t", item(outcome_id="client-123"), NOW, "k") == "client-123"
    derived = rules.outcome_id_for("t", item(), NOW, "k")
    assert derived == rules.outcome_id_for("t", item(), NOW, "k") != rules.outcome_id_for("t", item(), NOW, "j")


def test_notes_are_bounded():
    with pytest.raises(ValueError):
        item(notes="x" * 2001)


@pytest.mark.parametrize(
    ("raw", "key"),
    [("LinkedIn Ads ", "linkedin-ads"), ("linkedin_ads", "linkedin-ads"), ("  São Paulo, BR", "são-paulo-br")],
)
def test_source_and_geo_keys_are_normalised(raw, key):
    assert rules.normalise_key(raw) == key


def test_attributes_are_validated_naming_the_field():
    assert clean_attributes({"tier": "a", "source_key": "Google Ads"}) == {"tier": "A", "source_key": "google-ads"}
    for bad, field in (
        ({"tier": "Z"}, "tier"),
        ({"timeline_bucket": "1-2"}, "timeline_bucket"),
        ({"last_activity_at": "yesterday"}, "last_activity_at"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(InputError) as error:
            clean_attributes(bad)
        assert error.value.field == field


def test_win_rate_weeks_are_complete_iso_weeks_and_at_most_26():
    assert last_complete_week(NOW).isoformat() == "2026-03-02"
    assert [d.isoformat() for d in week_range(NOW, 4)] == ["2026-02-09", "2026-03-02"]
    with pytest.raises(InputError) as error:
        week_range(NOW, 27)
    assert error.value.field == "weeks"
    with pytest.raises(InputError) as error:
        WinRateQuery.from_args("source", {"min_denominator": "-1"})
    assert error.value.field == "min_denominator"


class Keys:
    def __init__(self):
        self.items = {}

    def get(self, tenant_id, key_id):
        return self.items.get((tenant_id, key_id))

    def put(self, tenant_id, key_id, record):
        self.items[(tenant_id, key_id)] = record


def test_keys_are_stored_hashed_and_work_only_for_their_tenant_and_scopes():
    keys = Keys()
    plain = create_key(keys, "acme", ["outcomes:write"], "crm sync", NOW)
    assert plain.split(".", 1)[1] not in str(keys.items)
    actor = authenticate(keys, "acme", f"Bearer {plain}", "outcomes:write")
    assert actor.label == "crm sync" and not actor.is_admin
    with pytest.raises(Forbidden) as other_tenant:
        authenticate(keys, "beta", f"Bearer {plain}", "outcomes:write")
    with pytest.raises(Forbidden) as wrong_secret:
        authenticate(keys, "acme", f"Bearer {plain}x", "outcomes:write")
    with pytest.raises(Forbidden):
        authenticate(keys, "acme", f"Bearer {plain}", "admin")
    assert other_tenant.value.message == wrong_secret.value.message  # nothing learned about beta
    with pytest.raises(Unauthenticated):
        authenticate(keys, "acme", None, "outcomes:read")


def test_admin_sessions_are_signed_and_tied_to_their_tenant():
    keys = Keys()
    actor = authenticate(keys, "acme", "Bearer " + create_key(keys, "acme", ["admin"], "Ann", NOW), "admin")
    sessions = Sessions(b"s" * 32)
    cookie, csrf = sessions.issue("acme", actor)
    read_actor, read_csrf = sessions.read("acme", cookie)
    assert (read_actor.key_id, read_actor.is_admin, read_csrf) == (actor.key_id, True, csrf)
    assert sessions.read("beta", cookie) is None
    assert sessions.read("acme", cookie[:-2] + "xx") is None
    assert Sessions(b"o" * 32).read("acme", cookie) is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"tier": float("nan")}, "tier"),
        ({"source_key": ["linkedin"]}, "source_key"),
        ({"intent_type": "buy\x00"}, "intent_type"),
        ({"metadata": [1]}, "metadata"),
        ({"metadata": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "metadata"),
        ({"metadata": {"n": float("inf")}}, "metadata"),
        ({"metadata": {"n": 2**63}}, "metadata"),
        ({"metadata": {"__name__": 1}}, "metadata"),
        ({"metadata": {"notes": "x" * 4001}}, "metadata"),
    ],
)
def test_attributes_are_text_and_metadata_is_bounded_json(bad, field):
    with pytest.raises(InputError) as error:
        clean_attributes(bad)
    assert error.value.field == field


def test_metadata_within_bounds_is_kept_as_sent():
    metadata = {"crm": {"id": "0061x000", "stage": 3, "tags": ["a", "b"]}, "score": 0.5}
    assert clean_attributes({"metadata": metadata}) == {"metadata": metadata}
