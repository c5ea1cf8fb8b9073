"""The protobuf-direct batch writes build exactly the messages the Firestore client builds."""

from datetime import UTC, datetime

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.types import write

from oie.adapters.firestore_writes import add_create, add_set
from oie.campaigns import engine
from tests.unit.campaigns.factories import make_plan, make_state

STATE = engine.start(make_plan(), make_state(make_plan()), datetime(2026, 3, 2, 17, tzinfo=UTC)).state
DOCUMENTS = [
    STATE.model_dump(),
    {"email": "ada@example.com", "attributes": {"region": "UK", "odd key-1": "x"}, "updated_at": datetime.now(UTC)},
    {"n": 3, "ratio": 0.5, "flag": False, "none": None, "raw": b"\x00\x01", "tags": ["a", 1, {"k": "v"}], "empty": {}},
]


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")  # builds messages only, never connects
    return firestore.Client(project="writes-test")


def messages(batch):
    return [write.Write.pb(w) for w in batch._write_pbs]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_a_create_is_the_clients_create_byte_for_byte(client, data):
    ref = client.collection("tenants").document("acme").collection("x").document("doc")
    ours, theirs = client.batch(), client.batch()
    add_create(ours, ref, data)
    theirs.create(ref, data)
    assert messages(ours) == messages(theirs)


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("data", DOCUMENTS)
def test_a_set_is_the_clients_set_with_the_same_fields_masked(client, data, merge):
    ref = client.collection("links").document("ab3f9k2q")
    ours, theirs = client.batch(), client.batch()
    add_set(ours, ref, data, merge=merge)
    theirs.set(ref, data, merge=merge)
    (mine,), (client_pb,) = messages(ours), messages(theirs)
    assert mine.update == client_pb.update
    assert sorted(mine.update_mask.field_paths) == sorted(client_pb.update_mask.field_paths)
    assert mine.HasField("update_mask") == client_pb.HasField("update_mask")


def test_a_sentinel_falls_back_to_the_client(client):
    ref = client.collection("w").document("t")
    ours, theirs = client.batch(), client.batch()
    data = {"ids": firestore.ArrayUnion(["a"]), "at": datetime(2026, 1, 1, tzinfo=UTC)}
    add_set(ours, ref, data, merge=True)
    theirs.set(ref, data, merge=True)
    assert messages(ours) == messages(theirs)
