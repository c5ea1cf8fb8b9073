"""An erasure leaves the address nowhere: every warehouse table, every Firestore document, the outbox.

The person is imported, emailed by a campaign (outbox files, outbound message documents,
campaign states), sends SendGrid events (raw webhook bodies), replies (inbound_messages),
gets an outcome and unsubscribes; then `oie privacy erase` runs and the whole store is
searched for the address, its hashes and the person's name.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.cli.main import cli
from oie.devstack.gateway import build_gateway
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import Actor
from oie.outcomes.models import OutcomeIn
from oie.webhooks.signer import LocalSigner
from tests.factories import create_acme, csv_text
from tests.fakes import RecordingQueue
from tests.integration.inbound_auth import inbound_post
from tests.unit.campaigns.factories import make_plan

pytestmark = pytest.mark.firestore
ADA = "ada.lovelace@example.com"
BOB = "bob.builder@example.com"
SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


def fingerprints(address: str) -> dict[str, str]:
    """What would identify the address: itself, its name, and its usual hashes."""
    raw = address.encode()
    return {
        "address": address,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "sha1": hashlib.sha1(raw).hexdigest(),
        "md5": hashlib.md5(raw).hexdigest(),
    }


def warehouse_text(app: Any) -> dict[str, str]:
    """Every warehouse table as one lower-cased text blob, except the erasure log itself."""
    tables = [r["table_name"] for r in app.warehouse.sql("select table_name from information_schema.tables")]
    blobs = {}
    for table in tables:
        columns = [
            r["column_name"]
            for r in app.warehouse.sql(
                "select column_name from information_schema.columns where table_name = $t", {"t": table}
            )
        ]
        rows = app.warehouse.sql(f'select * from "{table}"')
        if table == "erasures":  # the record of the request keeps the sha256 on purpose (README)
            rows = [{k: v for k, v in r.items() if k != "email_sha256"} for r in rows]
        blobs[table] = json.dumps(rows, default=str).lower() + " ".join(columns)
    return blobs


def firestore_documents(client: Any) -> dict[str, str]:
    """Every document of the emulator project, by path, as lower-cased text."""
    found: dict[str, str] = {}

    def walk(collection: Any) -> None:
        for ref in collection.list_documents():
            snap = ref.get()
            found[ref.path] = json.dumps(snap.to_dict() or {}, default=str).lower() if snap.exists else ""
            for sub in ref.collections():
                walk(sub)

    for collection in client.collections():
        walk(collection)
    return found


@pytest.fixture
def person_everywhere(app):
    signer = LocalSigner.generate()
    app.tasks = RecordingQueue()
    create_acme(app.tenants, sendgrid_webhook_public_key=signer.public_key_b64)
    rows = csv_text(f"{ADA},Augusta,Lovelace,Engines,", f"{BOB},Bob,Builder,Builders,")
    ada, bob = app.importer.run(
        "acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://links.acme.com"
    ).imported
    app.campaign_senders.put("acme", SENDER)
    gateway = Client(build_gateway())
    app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    for task in list(app.tasks.tasks):
        if task.schedule_at and task.schedule_at > app.clock.current:
            app.clock.current = task.schedule_at
        assert gateway.post("/campaign_step", json=task.payload).status_code == 200
    messages = {
        d.to_dict()["to_email"]: d.to_dict()
        for d in app.firestore.collection("tenants").document("acme").collection("outbound_messages").stream()
    }
    assert set(messages) == {ADA, BOB}
    now = int(app.clock.now().timestamp())
    events = [
        {
            "email": address.replace("ada", "Ada"),  # providers do not keep the case we sent
            "timestamp": now - 30,
            "event": kind,
            "sg_event_id": f"sg-{kind}-{address}",
            "sg_message_id": f"sg-{messages[address]['message_id']}.filter0001",
            "tenant_id": "acme",
            "contact_campaign_id": messages[address]["contact_campaign_id"],
            "oie_message_id": messages[address]["message_id"],
        }
        for address in (ADA, BOB)
        for kind in ("delivered", "bounce" if address == BOB else "processed")
    ]
    body = json.dumps(events).encode()
    answer = gateway.post("/webhooks/sendgrid/acme", data=body, headers=signer.headers(body, now))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    form = {
        "to": f"reply+{messages[ADA]['reply_token']}@reply.acme.com",
        "from": f"Augusta Lovelace <{ADA.replace('ada', 'Ada')}>",
        "subject": "Re: a question",
        "text": f"Yes, Thursday works.\n\nAugusta Lovelace\n{ADA}",
        "headers": f"Message-ID: <r1@example.com>\nFrom: Augusta Lovelace <{ADA}>\n",
        "envelope": json.dumps({"to": [f"reply+{messages[ADA]['reply_token']}@reply.acme.com"], "from": ADA}),
    }
    answer = inbound_post(app, gateway, "acme", form)
    assert answer.status_code == 200 and answer.get_json()["matched_by"] == "reply_token"
    colleague = {  # someone else's reply, to Bob's message, that names Ada: it stays, without her
        "to": f"reply+{messages[BOB]['reply_token']}@reply.acme.com",
        "from": "Carol <carol@builders.example>",
        "subject": "Re: a question (cc Augusta Lovelace)",
        "text": f"Looping in AUGUSTA LOVELACE <{ADA}>, who asked about this.",
        "html": f'<p>Looping in <a href="mailto:{ADA}">Augusta Lovelace</a>.</p>',
        "headers": f"Message-ID: <r2@example.com>\nCc: Augusta Lovelace <{ADA}>\n",
    }
    answer = inbound_post(app, gateway, "acme", colleague)
    assert answer.status_code == 200 and answer.get_json()["matched_by"] == "reply_token"
    outcome = OutcomeIn(lead_id=ada.lead_id, outcome_type="contacted", notes="Called Augusta Lovelace")
    app.outcomes_service.record("acme", outcome, Actor("k1", "rep", frozenset({"admin"})))
    with app.settings.outbox_dir.joinpath(f"{messages[ADA]['message_id']}.eml").open("rb") as eml:
        unsubscribe = next(
            line.split(b"<", 1)[1].split(b">", 1)[0].decode()
            for line in eml
            if line.lower().startswith(b"list-unsubscribe:")
        )
    path = unsubscribe.split("127.0.0.1:8080", 1)[1]
    assert gateway.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    _planned_and_watched(app, ada.lead_id, messages[ADA]["contact_campaign_id"])
    assert app.suppressions.is_suppressed("acme", "email", ADA)
    return ada, bob, messages


def _planned_and_watched(app: Any, lead_id: str, ccid: str) -> None:
    """What the language-model planner and the intent watch keep about a person, as they store it."""
    now = app.clock.now()
    analysis = "Augusta Lovelace read pricing twice"
    app.warehouse.insert_rows(
        "plan_generations",
        [
            {
                "generation_id": "g-ada",
                "tenant_id": "acme",
                "campaign_id": "c1",
                "lead_id": lead_id,
                "input_hash": "h-ada",
                "model": "gemini-2.5-flash",
                "prompt_version": "plan-v1",
                "outcome": "generated",
                "model_calls": 1,
                "prompt_tokens": 10,
                "output_tokens": 10,
                "cost_usd": 0.0,
                "latency_ms": 1,
                "plan_version": "v",
                "lead_analysis": analysis,
                "planned_at": now,
            }
        ],
        id_field="generation_id",
    )
    tenant = app.firestore.collection("tenants").document("acme")
    tenant.collection("plan_generations").document("h-ada").set({"lead_id": lead_id, "lead_analysis": analysis})
    tenant.collection("plan_reviews").document(ccid).set({"lead_id": lead_id, "status": "pending"})
    app.intent_watch.add("acme", "ab3f9k2q", lead_id, ccid, now)


def test_an_erased_address_is_nowhere_in_the_warehouse_firestore_or_the_outbox(app, person_everywhere):
    ada, bob, messages = person_everywhere
    before = warehouse_text(app)
    assert ADA in before["webhook_deliveries"] and ADA in before["inbound_messages"]  # the test sees it

    result = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", ADA.upper()])
    assert result.exit_code == 0, result.output

    marks = {**fingerprints(ADA), "name": "lovelace", "lead_id": ada.lead_id.lower()}
    leaks: dict[str, list[str]] = {}
    for table, text in warehouse_text(app).items():
        # Which lead an erasure removed is the erasure's own record.
        here = {k: v for k, v in marks.items() if not (table == "erasures" and k == "lead_id")}
        if found := [what for what, value in here.items() if value in text]:
            leaks[table] = found
    documents = firestore_documents(app.firestore)
    tombstone = f"tenants/acme/suppressions/email_{fingerprints(ADA)['sha256']}"
    for path, text in documents.items():
        found = [what for what, value in marks.items() if value in text or value in path.lower()]
        if path == tombstone and found == ["sha256"]:
            continue  # kept, by hash only, so the person is never emailed again
        if found:
            leaks[path] = found
    for eml in app.settings.outbox_dir.glob("*.eml"):
        text = eml.read_bytes().lower()
        if ADA.encode() in text or b"lovelace" in text:
            leaks[f"outbox/{eml.name}"] = ["address or name"]
    assert not leaks, json.dumps(leaks, indent=1)
    assert tombstone in documents and app.suppressions.is_suppressed("acme", "email", ADA)

    # Everyone else is untouched.
    after = warehouse_text(app)
    assert BOB in after["webhook_deliveries"] and bob.lead_id.lower() in after["identity_map"]
    assert "looping in [erased] <[erased]>, who asked" in after["inbound_messages"]
    assert any(BOB.encode() in f.read_bytes() for f in app.settings.outbox_dir.glob("*.eml"))
    assert app.leads.get("acme", bob.lead_id) is not None
    assert messages[BOB]["message_id"] in {
        d.id for d in app.firestore.collection("tenants").document("acme").collection("outbound_messages").stream()
    }


def test_erasing_an_address_that_was_never_imported_says_so_with_its_own_exit_code(app, person_everywhere):
    result = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", "nobody@example.com"])
    assert result.exit_code == 3, result.output
    assert "never imported" in result.output
    again = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", ADA])
    assert again.exit_code == 0, again.output
    twice = CliRunner().invoke(cli, ["privacy", "erase", "--tenant", "acme", "--email", ADA])
    assert twice.exit_code == 3 and "already erased" in twice.output, twice.output
