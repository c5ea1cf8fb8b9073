"""The outcomes API under hostile input: document ids, odd JSON, bodies without a length. Never a 500."""

from __future__ import annotations

import io

import pytest

from tests.integration.test_outcomes_api import build_world, get, post

pytestmark = pytest.mark.firestore


@pytest.fixture
def world(app):
    return build_world(app)


def outcome_docs(app, tenant, *path):
    """Every document under tenants/{tenant}/leads, at any depth (the sub-documents an attack would write)."""
    root = app.firestore.collection("tenants").document(tenant)
    found = []

    def walk(doc, depth):
        for col in doc.collections():
            for child in col.list_documents():
                found.append(child.path)
                if depth < 6:
                    walk(child, depth + 1)

    walk(root, 0)
    return found


def test_a_lead_id_with_a_path_never_writes_a_sub_document_or_counts_a_win(app, world):
    client, leads, keys = world
    ada = leads["acme"]["Ada"]
    lost = {"lead_id": ada, "outcome_type": "closed_lost", "outcome_id": "crm-lost-0001"}
    assert post(client, "/t/acme/outcomes", keys["writer"], lost).status_code == 201
    before = outcome_docs(app, "acme")
    attack = {"lead_id": f"{ada}/outcomes/crm-lost-0001", "outcome_type": "closed_won"}
    response = post(client, "/t/acme/outcomes", keys["writer"], attack)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "lead_id"
    bulk = post(client, "/t/acme/outcomes/bulk", keys["writer"], {"outcomes": [attack]}).get_json()["results"]
    assert bulk[0]["status"] == 400 and bulk[0]["error"]["field"] == "lead_id"
    update = post(
        client,
        "/t/acme/admin/outcomes/bulk-update",
        keys["admin"],
        {"lead_ids": [attack["lead_id"]], "outcome_type": "closed_won"},
    ).get_json()["results"]
    assert update[0]["status"] == 400 and update[0]["error"]["field"] == "lead_id"
    assert outcome_docs(app, "acme") == before
    won = app.warehouse.sql("select count(*) as n from lead_outcomes where outcome_stage = 'won'")
    assert won == [{"n": 0}]


HOSTILE_IDS = [
    "..",
    ".",
    "__x__",
    "__ld_abcdefgh__",
    "ld_abcdefgh/x",
    "ld_abc\x00defgh",
    "ld_abcdefgh\n",
    "ld_" + "a" * 90,
]


@pytest.mark.parametrize("lead_id", HOSTILE_IDS)
def test_a_hostile_lead_id_in_a_body_is_a_400_naming_it(world, lead_id):
    client, _leads, keys = world
    response = post(client, "/t/acme/outcomes", keys["writer"], {"lead_id": lead_id, "outcome_type": "contacted"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "lead_id"


@pytest.mark.parametrize("outcome_id", ["__abcdefgh__", "../../abcdefgh", "abc/defghij", "abcdefgh\x7f"])
def test_a_hostile_outcome_id_is_a_400_naming_it(world, outcome_id):
    client, leads, keys = world
    body = {"lead_id": leads["acme"]["Ada"], "outcome_type": "contacted", "outcome_id": outcome_id}
    response = post(client, "/t/acme/outcomes", keys["writer"], body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "outcome_id"


PATH_IDS = ["..", "__x__", "%2e%2e", "ld_abc%00defgh", "ld_abcdefgh%0a", "%5F%5Fx%5F%5F", "a" * 1600]


@pytest.mark.parametrize("lead", PATH_IDS, ids=lambda v: v[:16])
@pytest.mark.parametrize("suffix", ["", "/outcomes"])
def test_a_hostile_lead_id_in_a_path_is_a_404(world, lead, suffix):
    client, _leads, keys = world
    response = get(client, f"/t/acme/leads/{lead}{suffix}", keys["writer"])
    assert response.status_code == 404
    # A newline never reaches the handler: the functions framework's own router answers 404 (HTML).
    assert not response.is_json or response.get_json()["error"]["code"] == "not_found"
    patched = client.patch(
        f"/outcomes/t/acme/leads/{lead}", json={"tier": "A"}, headers={"Authorization": f"Bearer {keys['writer']}"}
    )
    assert patched.status_code == 404


@pytest.mark.parametrize("tenant", ["..", "__x__", "%2e%2e", "ac%00me", "ACME", "a" * 300], ids=lambda v: v[:16])
def test_a_hostile_tenant_id_in_a_path_is_a_404(world, tenant):
    client, leads, keys = world
    response = get(client, f"/t/{tenant}/leads/{leads['acme']['Ada']}", keys["writer"])
    assert response.status_code == 404
    assert post(client, f"/t/{tenant}/outcomes", keys["writer"], {}).status_code == 404


@pytest.mark.parametrize(
    "key", ["oie_a/b.secret", "oie___x__.secret", "oie_..%2f.s", "oie_" + "f" * 500 + ".s"], ids=lambda v: v[:16]
)
def test_a_hostile_key_id_is_refused_as_unauthenticated(world, key):
    client, leads, _keys = world
    response = get(client, f"/t/acme/leads/{leads['acme']['Ada']}", key)
    assert response.status_code == 401 and response.get_json()["error"]["field"] == "authorization"


def raw_post(client, path, key, data: bytes, **kw):
    return client.post(
        f"/outcomes{path}",
        data=data,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **kw.pop("headers", {})},
        **kw,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ('"occurred_at": 1e20', "occurred_at"),
        ('"occurred_at": 9223372036854775808', "occurred_at"),
        ('"occurred_at": NaN', "occurred_at"),
        ('"occurred_at": -Infinity', "occurred_at"),
        ('"occurred_at": 1e400', "occurred_at"),
        ('"occurred_at": "99999-01-01T00:00:00Z"', "occurred_at"),
        ('"notes": Infinity', "notes"),
        ('"notes": {"a": [1, 2]}', "notes"),
        ('"notes": "lone \\ud800 surrogate"', "notes"),
        ('"notes": "a \\u0000 NUL"', "notes"),
        ('"override": NaN', "override"),
        ('"override": "perhaps"', "override"),
        ('"outcome_type": 5', "outcome_type"),
        ('"outcome_type": ' + "[" * 5000 + "]" * 5000, "body"),
        ('"extra": 1', "extra"),
    ],
    ids=lambda v: v[:30],
)
def test_odd_values_are_a_400_naming_the_field(app, world, fields, field):
    client, leads, keys = world
    data = f'{{"lead_id": "{leads["acme"]["Ada"]}", "outcome_type": "contacted", {fields}}}'
    # Later keys win in JSON objects, so outcome_type given twice tests its second value.
    response = raw_post(client, "/t/acme/outcomes", keys["writer"], data.encode())
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert app.warehouse.sql("select count(*) as n from lead_outcomes") == [{"n": 0}]


@pytest.mark.parametrize(
    "data",
    [b'{"lead_id": "\xff\xfe"}', b"[1, 2]", b'"outcome"', b"null", b"", b"{", b"[" * 50000, b"\xef\xbb\xbf["],
    ids=lambda v: repr(v[:12]),
)
def test_bodies_of_the_wrong_shape_or_encoding_are_a_400(world, data):
    client, _leads, keys = world
    for path in ("/t/acme/outcomes", "/t/acme/outcomes/bulk", "/t/acme/admin/outcomes/bulk-update"):
        key = keys["admin"] if "admin" in path else keys["writer"]
        response = raw_post(client, path, key, data)
        assert response.status_code == 400, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]["field"]
    response = client.patch(
        f"/outcomes/t/acme/leads/{_leads['acme']['Ada']}",
        data=data,
        headers={"Authorization": f"Bearer {keys['writer']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "attributes",
    [
        {"tier": float("nan")},
        {"source_key": ["a"] * 3},
        {"last_activity_at": 1e20},
        {"last_activity_at": "2026-03-01T00:00:00"},
        {"metadata": {"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
        {"metadata": {"n": float("inf")}},
        {"timeline_bucket": ["0-30"]},
        {"intent_type": "lone \ud800"},
        {"metadata": {"__name__": 1}},
        {"metadata": {"n": 2**70}},
        {"metadata": {"": {}}},  # found by Schemathesis: Firestore refuses an empty map key
        {"metadata": {"ok": {"": 1}}},
        {"metadata": {"rows": [[1, 2]]}},  # found by Schemathesis: Firestore refuses arrays of arrays
        {"metadata": {"rows": [{"inner": [[1]]}]}},
    ],
    ids=lambda v: repr(v)[:30],
)
def test_odd_attributes_are_a_400_naming_the_field(world, attributes):
    client, leads, keys = world
    import json

    response = client.patch(
        f"/outcomes/t/acme/leads/{leads['acme']['Ada']}",
        data=json.dumps(attributes),
        headers={"Authorization": f"Bearer {keys['writer']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == next(iter(attributes))


def test_an_update_with_no_attribute_is_a_400_not_an_empty_write(world):
    # Found by Schemathesis: Firestore refuses an update with no field ("Cannot update with an empty document").
    client, leads, keys = world
    response = client.patch(
        f"/outcomes/t/acme/leads/{leads['acme']['Ada']}",
        data="{}",
        headers={"Authorization": f"Bearer {keys['writer']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "body"


def test_in_a_bulk_request_every_odd_item_has_its_result_and_the_good_ones_are_recorded(app, world):
    client, leads, keys = world
    ada, bob, cy = (leads["acme"][n] for n in ("Ada", "Bob", "Cy"))
    data = (
        '{"outcomes": ['
        f'{{"lead_id": "{ada}", "outcome_type": "contacted"}},'
        f'{{"lead_id": "{bob}", "outcome_type": "contacted", "occurred_at": NaN}},'
        '"contacted", null, 5, [], '
        f'{{"lead_id": "{bob}", "outcome_type": "contacted", "occurred_at": 1e20}},'
        f'{{"lead_id": "{bob}/outcomes/x", "outcome_type": "closed_won"}},'
        f'{{"lead_id": "{cy}", "outcome_type": "contacted"}}'
        "]}"
    )
    response = raw_post(client, "/t/acme/outcomes/bulk", keys["writer"], data.encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 400, 400, 400, 400, 400, 400, 400, 201]
    assert [r["index"] for r in results] == list(range(9))
    assert [r["error"]["field"] for r in results[1:-1]] == [
        "occurred_at",
        "outcomes[2]",
        "outcomes[3]",
        "outcomes[4]",
        "outcomes[5]",
        "occurred_at",
        "lead_id",
    ]
    assert app.warehouse.sql("select count(*) as n from lead_outcomes") == [{"n": 2}]


def post_chunked(client, path, key, data: bytes):
    """A body without Content-Length, as the WSGI server hands over a chunked upload."""
    return client.post(
        f"/outcomes{path}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        input_stream=io.BytesIO(data),
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_body_over_the_limit_is_a_413_even_without_content_length(app, world):
    client, leads, keys = world
    huge = b'{"outcomes": [' + b'{"lead_id": "x", "outcome_type": "contacted"},' * 60000 + b"{}]}"
    for path in ("/t/acme/outcomes", "/t/acme/outcomes/bulk"):
        response = post_chunked(client, path, keys["writer"], huge)
        assert response.status_code == 413, path
        assert response.get_json()["error"]["field"] == "body"
    small = f'{{"lead_id": "{leads["acme"]["Ada"]}", "outcome_type": "contacted"}}'.encode()
    assert post_chunked(client, "/t/acme/outcomes", keys["writer"], small).status_code == 201


@pytest.mark.parametrize(
    "query",
    [
        "weeks=abc",
        "weeks=%C2%B2",  # "²" is a digit to str.isdigit, not to int()
        "weeks=99999999999999999999",
        "min_denominator=99999999999999999999999",
        "min_denominator=-1",
        "intent_type=%ed%a0%80%00",
        "by=%ff",
        "weeks=NaN&min_denominator=Infinity",
    ],
)
@pytest.mark.parametrize(
    "path", ["/t/acme/win-rates/by-source", "/t/acme/win-rates/by-geo", "/t/acme/win-rates/export"]
)
def test_hostile_win_rate_filters_are_a_4xx_naming_the_field_or_ignored(world, query, path):
    client, _leads, keys = world
    response = get(client, f"{path}?{query}", keys["writer"])
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.get_json()["error"]["field"] in ("weeks", "min_denominator", "by")
