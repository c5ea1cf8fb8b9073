"""The signal consumer on in-memory ports: who it is, which page, each campaign moved once."""

from datetime import timedelta

import pytest

from oie.campaigns.page_rules import PageRules
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.service import StepPayload
from oie.campaigns.signals import SignalService
from oie.errors import BackendUnavailable
from tests.factories import make_link
from tests.fakes import FakeLinkStore
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0
from tests.unit.campaigns.signal_factories import RulesWarehouse, intent_plan, signal, watching_service

CCID = "q1_ld_0000000000000001_email"
PRICING = "https://www.acme.com/pricing?ref=mail"


@pytest.fixture
def svc():
    return watching_service()


@pytest.fixture
def sent(svc):
    """The contact started on the intent plan and its intro sent at T0."""
    svc.start_campaign("acme", "q1", TemplatePlanner(intent_plan()))
    assert svc.run_step(StepPayload.model_validate(svc.tasks.tasks[-1].payload)) == "sent"
    return svc


def consumer(svc, *links, warehouse=None):
    return SignalService(
        campaigns=svc,
        links=FakeLinkStore(*(links or (make_link(campaign_id="q1"),))),
        watch=svc.watch,
        pages=PageRules(warehouse or RulesWarehouse()),
    )


def node(svc):
    return svc.states.get("acme", CCID).current_node


def test_a_pricing_visit_by_tracking_id_moves_the_contact_to_the_pricing_follow_up(sent):
    visit = signal("page_visit", "event:v1.e1", T0 + timedelta(hours=2), tracking_id="ab3f9k2q", url=PRICING)
    assert consumer(sent).apply(visit) == "moved"
    assert node(sent) == "pricing"
    assert sent.tasks.tasks[-1].payload["kind"] == "step"  # the pricing send is scheduled


def test_the_same_signal_delivered_twice_moves_the_campaign_once(sent):
    visit = signal("page_visit", "event:v1.e1", T0 + timedelta(hours=2), tracking_id="ab3f9k2q", url=PRICING)
    service = consumer(sent)
    assert [service.apply(visit), service.apply(visit)] == ["moved", "duplicate"]
    moves = [r for r in sent.warehouse.tables["campaign_transitions"] if r["trigger"] == "page_visit"]
    assert len(moves) == 1


def test_a_level_crossing_before_the_page_visit_wins_and_the_late_visit_moves_nothing(sent):
    service = consumer(sent)
    hot = signal(
        "intent_level", "level:acme:ld:hot:1", T0 + timedelta(hours=3), lead_id="ld_0000000000000001", level="hot"
    )
    earlier_visit = signal("page_visit", "event:v1.e1", T0 + timedelta(hours=2), tracking_id="ab3f9k2q", url=PRICING)
    assert service.apply(hot) == "moved"
    assert service.apply(earlier_visit) == "recorded"  # the hot follow-up waits on no page visit
    assert node(sent) == "followup_hot"


def test_a_visit_from_before_the_send_does_not_count_for_the_sent_node(sent):
    old = signal("page_visit", "event:v1.e0", T0 - timedelta(hours=1), tracking_id="ab3f9k2q", url=PRICING)
    assert consumer(sent).apply(old) == "recorded"
    assert node(sent) == "intro"


def test_a_page_the_rules_do_not_class_as_pricing_moves_nothing(sent):
    blog = signal(
        "page_visit", "event:v1.e2", T0 + timedelta(hours=1), tracking_id="ab3f9k2q", url="https://www.acme.com/blog"
    )
    assert consumer(sent).apply(blog) == "recorded"
    assert node(sent) == "intro"


def test_a_tracking_id_of_another_tenant_is_refused(sent):
    foreign = make_link(tenant_id="globex", campaign_id="q1")
    visit = signal("page_visit", "event:v1.e1", T0 + timedelta(hours=2), tracking_id="ab3f9k2q", url=PRICING)
    assert consumer(sent, foreign).apply(visit) == "unknown_lead"
    assert node(sent) == "intro"


def test_an_unknown_tracking_id_is_acknowledged_as_an_unknown_lead(sent):
    visit = signal("page_visit", "event:v1.e1", T0, tracking_id="zz9zz9zz9", url=PRICING)
    assert consumer(sent).apply(visit) == "unknown_lead"


def test_an_appointment_closes_every_active_campaign_of_the_lead(sent):
    appointment = signal(
        "outcome",
        "outcome:oc_1",
        T0 + timedelta(days=1),
        lead_id="ld_0000000000000001",
        outcome="appointment_set",
        stage="mid_funnel",
    )
    assert consumer(sent).apply(appointment) == "closed"
    assert sent.states.get("acme", CCID).status == "closed"


def test_a_lead_whose_campaigns_all_ended_is_dropped_from_the_watch(sent):
    assert sent.watch.get("acme", "ab3f9k2q").contact_campaign_ids == (CCID,)
    service = consumer(sent)
    service.apply(
        signal("outcome", "outcome:oc_1", T0, lead_id="ld_0000000000000001", outcome="closed_won", stage="won")
    )
    visit = signal("page_visit", "event:v1.e1", T0 + timedelta(hours=2), tracking_id="ab3f9k2q", url=PRICING)
    assert service.apply(visit) == "no_active_campaign"
    assert sent.watch.get("acme", "ab3f9k2q") is None


def test_a_store_outage_propagates_so_the_task_is_retried(sent):
    class Down(fakes.MemoryStates):
        def of_contact(self, tenant_id, *, lead_id=None, email=None):
            raise BackendUnavailable("firestore: down")

    sent.states = Down()
    with pytest.raises(BackendUnavailable):
        consumer(sent).apply(signal("intent_level", "level:x:1", T0, lead_id="ld_0000000000000001", level="hot"))
