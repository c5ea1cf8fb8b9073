"""Roles on API keys and sessions that follow their key: pure rules, with a hand-written key store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oie.errors import Forbidden, InputError
from oie.outcomes.auth import Sessions, authenticate, create_key

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Keys:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict] = {}
        self.reads = 0

    def get(self, tenant_id, key_id):
        self.reads += 1
        return self.items.get((tenant_id, key_id))

    def put(self, tenant_id, key_id, record):
        self.items[(tenant_id, key_id)] = record


def test_a_member_key_records_outcomes_and_pauses_campaigns_but_is_no_admin():
    keys = Keys()
    plain = create_key(keys, "acme", [], "Sam", NOW, role="member")
    for scope in ("outcomes:read", "outcomes:write", "campaigns:pause"):
        assert authenticate(keys, "acme", f"Bearer {plain}", scope).role == "member"
    with pytest.raises(Forbidden) as refused:
        authenticate(keys, "acme", f"Bearer {plain}", "admin")
    assert "only an admin key" in refused.value.message
    with pytest.raises(InputError):
        create_key(keys, "acme", ["admin"], "x", NOW, role="member")


def test_a_key_stored_before_roles_reads_as_admin_and_keeps_its_scopes():
    keys = Keys()
    old_admin = create_key(keys, "acme", ["admin"], "old", NOW)
    old_reader = create_key(keys, "acme", ["outcomes:read"], "bi", NOW)
    assert all("role" not in record for record in keys.items.values())  # nothing rewritten
    admin = authenticate(keys, "acme", f"Bearer {old_admin}", "admin")
    reader = authenticate(keys, "acme", f"Bearer {old_reader}", "outcomes:read")
    assert (admin.role, admin.is_admin, admin.may_log_in) == ("admin", True, True)
    assert (reader.role, reader.is_admin, reader.may_log_in) == ("admin", False, False)
    with pytest.raises(Forbidden):
        authenticate(keys, "acme", f"Bearer {old_reader}", "outcomes:write")


def test_a_session_reads_its_key_at_most_once_per_cache_time_and_ends_with_it():
    keys = Keys()
    plain = create_key(keys, "acme", [], "Ann", NOW, role="admin")
    actor = authenticate(keys, "acme", f"Bearer {plain}", "admin")
    sessions = Sessions(b"s" * 32, keys=keys, ttl=60)
    cookie, _ = sessions.issue("acme", actor)
    before = keys.reads
    assert [sessions.read("acme", cookie)[0].key_id for _ in range(5)] == [actor.key_id] * 5
    assert keys.reads == before + 1  # cheap: one read, then the cache
    keys.items[("acme", actor.key_id)] = {**keys.items[("acme", actor.key_id)], "revoked": True}
    assert sessions.read("acme", cookie) is not None  # another process's revocation: within the ttl
    sessions.forget("acme", actor.key_id)
    assert sessions.read("acme", cookie) is None
    assert sessions.read("beta", cookie) is None


def test_a_session_takes_its_role_from_the_key_not_the_cookie():
    keys = Keys()
    plain = create_key(keys, "acme", [], "Sam", NOW, role="member")
    actor = authenticate(keys, "acme", f"Bearer {plain}", "outcomes:read")
    sessions = Sessions(b"s" * 32, keys=keys, ttl=0)
    cookie, _ = sessions.issue("acme", actor)
    read = sessions.read("acme", cookie)[0]
    assert (read.role, read.is_admin, read.may("outcomes:write")) == ("member", False, True)
