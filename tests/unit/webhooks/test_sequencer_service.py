"""The sequencer webhook service on hand-written fakes: who may post, what is stored, what it sets off."""

import json

import pytest

from oie.errors import BackendUnavailable, Forbidden, InputError, Unauthenticated
from oie.ports import Task
from oie.webhooks.sequencers.service import SequencerWebhooks
from tests.fakes import RecordingQueue
from tests.unit.webhooks.sequencer_payloads import SECRET, encoded, instantly, make_parts, smartlead


class FailingQueue(RecordingQueue):
    def __init__(self):
        super().__init__()
        self.down = True

    def enqueue(self, task: Task) -> bool:
        if self.down:
            raise BackendUnavailable("tasks down")
        return super().enqueue(task)


@pytest.fixture
def parts():
    return make_parts()


def service(parts):
    return SequencerWebhooks(**parts)


def post(parts, sequencer, payload, tenant="acme", secret=None):
    body = payload if isinstance(payload, bytes) else encoded(payload)
    return service(parts).receive(sequencer, tenant, body, SECRET[sequencer] + tenant if secret is None else secret)


def events(parts):
    return parts["warehouse"].tables.get("message_events", [])


def nothing_stored(parts):
    return not parts["warehouse"].tables and not parts["markers"].keys and not parts["tasks"].tasks


@pytest.mark.parametrize(
    ("secret", "error"), [("", Unauthenticated), ("wrong", Forbidden), (SECRET["instantly"] + "acme", Forbidden)]
)
def test_a_post_without_the_tenants_own_secret_is_refused_and_nothing_is_stored(parts, secret, error):
    with pytest.raises(error):
        post(parts, "smartlead", smartlead("EMAIL_REPLY"), secret=secret)
    assert nothing_stored(parts)


def test_another_tenants_secret_is_refused(parts):
    with pytest.raises(Forbidden):
        post(parts, "smartlead", smartlead("EMAIL_REPLY"), tenant="acme", secret=SECRET["smartlead"] + "globex")
    assert nothing_stored(parts)


def test_an_unknown_tenant_is_refused_like_a_wrong_secret(parts):
    with pytest.raises(Forbidden):
        post(parts, "instantly", instantly("reply_received"), tenant="nobody")
    assert nothing_stored(parts)


def test_an_unreadable_body_is_kept_raw_and_refused_naming_the_field(parts):
    with pytest.raises(InputError) as caught:
        post(parts, "instantly", b'{"event_type": "reply_received", ')
    assert caught.value.field == "body"
    (delivery,) = parts["warehouse"].tables["webhook_deliveries"]
    assert delivery["kind"] == "instantly_events" and delivery["error"].startswith("the body is not JSON")
    assert "message_events" not in parts["warehouse"].tables


def test_an_event_missing_its_time_is_refused_naming_the_field(parts):
    with pytest.raises(InputError) as caught:
        post(parts, "smartlead", smartlead("EMAIL_OPEN", event_timestamp=None))
    assert caught.value.field == "event_timestamp"
    assert "message_events" not in parts["warehouse"].tables and not parts["markers"].keys


def test_events_sent_twice_and_out_of_order_are_stored_once_each(parts):
    kinds = ["EMAIL_SENT", "EMAIL_OPEN", "EMAIL_LINK_CLICK", "EMAIL_REPLY"]
    posts = [smartlead(k, event_timestamp=f"2026-03-02T09:1{n}:00Z") for n, k in enumerate(kinds)]
    for payload in [posts[3], posts[1], posts[3], posts[0], posts[2], posts[1], posts[0]]:
        post(parts, "smartlead", payload)
    rows = [r for r in events(parts) if not r["is_duplicate"]]
    assert sorted(r["event_type"] for r in rows) == ["click", "open", "processed", "reply"]
    assert len({r["dedup_key"] for r in events(parts)}) == 4
    assert len(parts["warehouse"].tables["webhook_deliveries"]) == 4  # a retry is the same delivery
    assert len(parts["tasks"].tasks) == 1  # the reply, once


def test_the_same_event_in_another_post_is_flagged_a_duplicate(parts):
    first = post(parts, "smartlead", smartlead("EMAIL_SENT"))
    second = post(parts, "smartlead", smartlead("FIRST_EMAIL_SENT"))
    assert (first.accepted, second.accepted, second.duplicates) == (1, 0, 1)
    assert [r["is_duplicate"] for r in events(parts)] == [False, True]


def test_a_reply_reaches_the_engine_for_the_leads_contact_campaign(parts):
    receipt = post(parts, "smartlead", smartlead("EMAIL_REPLY"))
    assert receipt.enqueued == 1 and receipt.suppressed == 0
    (task,) = parts["tasks"].tasks
    event = task.payload["event"]
    assert (task.queue, task.function, task.name) == ("webhook-events", "campaign_step", f"ev-{event['event_key']}")
    assert (event["type"], event["contact_campaign_id"], event["tenant_id"]) == ("reply", "q1_ld_ada_email", "acme")
    assert event["details"]["matched_by"] == "email" and event["details"]["sequencer_campaign_id"] == "4711"
    (row,) = events(parts)
    assert (row["source"], row["campaign_id"], row["contact_campaign_id"]) == ("smartlead", "q1", "q1_ld_ada_email")


def test_the_tracking_id_decides_the_campaign_before_the_email(parts):
    post(parts, "instantly", instantly("reply_received", tracking_id="Tr4ck1ng"))
    (row,) = events(parts)
    assert (row["source"], row["campaign_id"], row["contact_campaign_id"]) == ("instantly", "q2", "q2_ld_ada_email")
    assert parts["tasks"].events()[0]["details"]["matched_by"] == "tracking_id"


@pytest.mark.parametrize(
    ("sequencer", "payload", "reason", "engine"),
    [
        ("smartlead", smartlead("EMAIL_BOUNCE"), "bounce", "bounce"),
        ("smartlead", smartlead("LEAD_UNSUBSCRIBED"), "unsubscribe", "unsubscribe"),
        ("instantly", instantly("email_bounced"), "bounce", "bounce"),
        ("instantly", instantly("lead_unsubscribed"), "unsubscribe", "unsubscribe"),
    ],
)
def test_bounces_and_unsubscribes_suppress_the_address_and_reach_the_engine(parts, sequencer, payload, reason, engine):
    post(parts, sequencer, payload)
    (entry,) = parts["suppressions"].items.values()
    assert (entry.address, entry.reason, entry.source) == ("ada@example.com", reason, f"{sequencer}_webhook")
    assert [e["type"] for e in parts["tasks"].events()] == [engine]


def test_opens_and_clicks_are_recorded_but_move_nothing(parts):
    post(parts, "instantly", instantly("email_opened"))
    post(parts, "instantly", instantly("email_link_clicked"))
    assert [r["event_type"] for r in events(parts)] == ["open", "click"]
    assert not parts["tasks"].tasks and not parts["suppressions"].items


def test_an_event_about_nobody_we_know_is_stored_and_still_suppresses(parts):
    post(parts, "smartlead", smartlead("EMAIL_BOUNCE", email="stranger@example.com"))
    (row,) = events(parts)
    assert row["contact_campaign_id"] is None and row["campaign_id"] is None
    assert not parts["tasks"].tasks and len(parts["suppressions"].items) == 1


def test_an_unknown_event_type_is_stored_raw_and_not_normalised(parts):
    receipt = post(parts, "smartlead", {"event_type": "LEAD_CATEGORY_UPDATED", "lead_category": {"new_name": "Hot"}})
    assert receipt.summary()["ignored"] == [
        {"index": 0, "reason": "event type 'LEAD_CATEGORY_UPDATED' stored raw only"}
    ]
    (delivery,) = parts["warehouse"].tables["webhook_deliveries"]
    assert "LEAD_CATEGORY_UPDATED" in delivery["raw_body"] and delivery["ignored_events"] == 1
    assert "message_events" not in parts["warehouse"].tables


def test_smartleads_echoed_secret_key_is_not_kept(parts):
    post(parts, "smartlead", smartlead("EMAIL_OPEN"))
    (delivery,) = parts["warehouse"].tables["webhook_deliveries"]
    assert "their-own-webhook-key" not in delivery["raw_body"]
    assert json.loads(delivery["raw_body"])["secret_key"] == "[redacted]"


def test_a_failed_hand_off_is_released_so_the_retry_acts(parts):
    parts["tasks"] = queue = FailingQueue()
    with pytest.raises(BackendUnavailable):
        post(parts, "smartlead", smartlead("EMAIL_REPLY"))
    queue.down = False
    receipt = post(parts, "smartlead", smartlead("EMAIL_REPLY"))
    assert receipt.accepted == 1 and len(queue.tasks) == 1
    assert len(events(parts)) == 1  # the same post: one row, not two


def test_a_warehouse_outage_answers_503_and_keeps_nothing_claimed(parts):
    parts["warehouse"].down = True
    with pytest.raises(BackendUnavailable):
        post(parts, "smartlead", smartlead("EMAIL_OPEN", to_email="stranger@example.com", sl_lead_email=None))
    assert not parts["markers"].keys
