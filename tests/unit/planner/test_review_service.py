"""The review queue on in-memory ports: approve (as planned or edited), reject, list, isolation."""

from datetime import timedelta

import pytest

from oie.campaigns.models import contact_campaign_id
from oie.campaigns.plan import PlanInvalid, parse_plan
from oie.errors import Conflict, InputError, NotFound
from oie.planner.review import PlanReview, ReviewService, copy_of
from tests.fakes import FakeClock
from tests.unit.campaigns.factories import T0, make_contact, make_plan, plan_dict
from tests.unit.planner.review_fakes import MemoryReviews, campaign_service, edited


def review_of(tenant_id="acme", lead_id="ld_0000000000000001", created_at=T0, **changes):
    plan = make_plan()
    contact = make_contact(lead_id=lead_id)
    return PlanReview(
        tenant_id=tenant_id,
        contact_campaign_id=contact_campaign_id("q1", lead_id),
        campaign_id="q1",
        contact=contact,
        plan=plan,
        messages=copy_of(plan),
        record={"model": "gemini-test", "total_tokens": 900},
        created_at=created_at,
        **changes,
    )


@pytest.fixture
def clock():
    return FakeClock(T0)


@pytest.fixture
def campaigns(clock):
    return campaign_service(clock)


@pytest.fixture
def service(campaigns, clock):
    def banned(tenant_id, plan, review):
        problems = []
        for i, node in enumerate(plan.nodes):
            if "guarantee" in getattr(getattr(node, "template", None), "text", "").lower():
                problems.append((f"nodes.{i}.template.text", "uses the banned phrase 'guarantee'"))
        return problems

    return ReviewService(store=MemoryReviews(), campaigns=campaigns, clock=clock, guardrails=banned)


CCID = contact_campaign_id("q1", "ld_0000000000000001")


def test_approving_starts_the_contact_on_the_plan_as_planned(service, campaigns):
    service.store.add(review_of())
    result = service.approve("acme", CCID, "cli:sam")
    assert result.changed and result.started
    assert result.review.status == "approved" and result.review.decided_by == "cli:sam"
    state = campaigns.states.get("acme", CCID)
    assert state is not None and state.plan_version == make_plan().content_hash()
    assert len(campaigns.tasks.tasks) == 1  # the intro step


def test_a_second_approve_is_a_no_op(service, campaigns):
    service.store.add(review_of())
    service.approve("acme", CCID, "cli:sam")
    again = service.approve("acme", CCID, "cli:kim", edited(make_plan(), subject="Other"))
    assert not again.changed and not again.started
    assert again.review.decided_by == "cli:sam" and not again.review.edited
    assert len(campaigns.tasks.tasks) == 1 and len(campaigns.states.states) == 1


def test_an_approved_review_whose_start_failed_is_started_by_approving_again(service, campaigns):
    service.store.add(review_of())
    senders = campaigns.senders.items
    campaigns.senders.items = {}  # the start fails after the approval is stored
    with pytest.raises(InputError):
        service.approve("acme", CCID, "cli:sam")
    assert service.store.get("acme", CCID).status == "approved"
    campaigns.senders.items = senders
    again = service.approve("acme", CCID, "cli:sam")
    assert not again.changed and again.started and campaigns.states.get("acme", CCID) is not None


def test_an_edited_plan_is_started_instead_and_marked_edited(service, campaigns):
    service.store.add(review_of())
    result = service.approve("acme", CCID, "cli:sam", edited(make_plan(), subject="Ada, one question"))
    assert result.review.edited and result.review.approved_plan.nodes[0].template.subject == "Ada, one question"
    state = campaigns.states.get("acme", CCID)
    assert state.plan_version == result.review.approved_plan.content_hash() != make_plan().content_hash()


def test_an_edit_that_breaks_the_plan_is_refused_naming_the_field(service, campaigns):
    service.store.add(review_of())
    broken = edited(make_plan())
    broken["nodes"][0]["transitions"][0]["to"] = "nowhere"
    with pytest.raises(PlanInvalid) as refused:
        service.approve("acme", CCID, "cli:sam", broken)
    assert refused.value.field == "nodes[0].transitions[0].to"
    assert service.store.get("acme", CCID).status == "pending" and not campaigns.states.states


def test_an_edit_of_the_wrong_type_is_refused_naming_the_field(service):
    service.store.add(review_of())
    with pytest.raises(PlanInvalid) as refused:
        service.approve("acme", CCID, "cli:sam", edited(make_plan(), subject=""))
    assert refused.value.field.endswith("template.EmailTemplate.subject")


def test_an_edit_that_fails_the_guardrails_is_refused_naming_the_field(service, campaigns):
    service.store.add(review_of())
    with pytest.raises(PlanInvalid) as refused:
        service.approve("acme", CCID, "cli:sam", edited(make_plan(), text="We guarantee 300% growth"))
    assert refused.value.field == "nodes.0.template.text" and "guarantee" in refused.value.message
    assert service.store.get("acme", CCID).status == "pending" and not campaigns.states.states


def test_rejecting_records_who_and_why_and_starts_nothing(service, campaigns):
    service.store.add(review_of())
    result = service.reject("acme", CCID, "cli:sam", "claims a customer we do not have")
    assert result.changed and not result.started
    stored = service.store.get("acme", CCID)
    assert (stored.status, stored.decided_by, stored.reason) == (
        "rejected",
        "cli:sam",
        "claims a customer we do not have",
    )
    assert not campaigns.states.states and not campaigns.tasks.tasks
    assert not service.reject("acme", CCID, "cli:kim", "again").changed
    assert service.store.get("acme", CCID).decided_by == "cli:sam"


def test_a_rejected_plan_cannot_be_approved_and_an_approved_one_cannot_be_rejected(service):
    service.store.add(review_of(lead_id="ld_0000000000000001"))
    service.store.add(review_of(lead_id="ld_0000000000000002"))
    service.reject("acme", CCID, "cli:sam", "off-brand")
    with pytest.raises(Conflict):
        service.approve("acme", CCID, "cli:sam")
    other = contact_campaign_id("q1", "ld_0000000000000002")
    service.approve("acme", other, "cli:sam")
    with pytest.raises(Conflict):
        service.reject("acme", other, "cli:sam", "too late")


def test_a_rejection_needs_a_reason(service):
    service.store.add(review_of())
    with pytest.raises(InputError) as refused:
        service.reject("acme", CCID, "cli:sam", "  ")
    assert refused.value.field == "reason"


def test_pending_lists_newest_first_bounded_and_only_pending(service):
    for n in range(1, 6):
        service.store.add(review_of(lead_id=f"ld_000000000000000{n}", created_at=T0 + timedelta(minutes=n)))
    service.reject("acme", contact_campaign_id("q1", "ld_0000000000000005"), "cli:sam", "no")
    listed = service.pending("acme", limit=3)
    assert [r.contact.lead_id for r in listed] == ["ld_0000000000000004", "ld_0000000000000003", "ld_0000000000000002"]
    with pytest.raises(InputError) as refused:
        service.pending("acme", limit=0)
    assert refused.value.field == "limit"


def test_one_tenant_cannot_see_or_decide_another_tenants_reviews(service, campaigns):
    service.store.add(review_of(tenant_id="acme"))
    assert service.pending("globex") == []
    with pytest.raises(NotFound):
        service.approve("globex", CCID, "cli:eve")
    with pytest.raises(NotFound):
        service.reject("globex", CCID, "cli:eve", "mine now")
    assert service.store.get("acme", CCID).status == "pending" and not campaigns.states.states


def test_the_copy_a_reviewer_reads_lists_every_send_node_and_variant():
    data = plan_dict()
    intro = data["nodes"][0]
    intro["variants"] = [
        {"id": "a", "template": {"subject": "A: hi", "text": "Variant A"}},
        {"id": "b", "template": {"subject": "B: hi", "text": "Variant B"}},
    ]
    del intro["template"]
    copies = [(c.node_id, c.variant_id, c.subject) for c in copy_of(parse_plan(data))]
    assert copies == [
        ("intro", "a", "A: hi"),
        ("intro", "b", "B: hi"),
        ("bump_send", "", "Re: hi"),
        ("followup_hot", "", "Glad"),
    ]
