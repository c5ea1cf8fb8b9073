from datetime import UTC, datetime

from oie.suppressions import tokens
from oie.suppressions.models import Suppression, address_key
from oie.suppressions.store import MemorySuppressions

KEY = b"u" * 32


def test_an_unsubscribe_token_round_trips_and_rejects_forgery():
    claim = tokens.UnsubscribeClaim(tenant_id="acme", address="ada@example.com", contact_campaign_id="cc1")
    token = tokens.mint(KEY, claim)
    assert tokens.verify(KEY, token) == claim
    assert tokens.verify(b"x" * 32, token) is None
    _payload, signature = token.split(".")
    other = tokens.mint(KEY, claim.model_copy(update={"address": "bob@example.com"})).split(".")[0]
    assert tokens.verify(KEY, f"{other}.{signature}") is None
    assert tokens.verify(KEY, "garbage") is None and tokens.verify(KEY, "a.b") is None


def test_suppressions_are_keyed_by_address_so_they_outlive_contacts():
    assert address_key("email", " Ada@Example.com ") == address_key("email", "ada@example.com")
    store = MemorySuppressions()
    first = Suppression(
        tenant_id="acme",
        address="ada@example.com",
        reason="bounce",
        source="sendgrid_webhook",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert store.add(first) is True
    assert store.add(first.model_copy(update={"reason": "spam_report"})) is False
    assert store.is_suppressed("acme", "email", "ADA@example.com")
    assert not store.is_suppressed("beta", "email", "ada@example.com")


def test_a_current_token_names_the_message_and_carries_no_address():
    ref = tokens.UnsubscribeRef(tenant_id="acme", message_id="m0123456789abcdef")
    token = tokens.mint_ref(KEY, ref)
    assert token.startswith("u2.acme.m0123456789abcdef.") and "@" not in token
    assert tokens.verify(KEY, token) == ref
    assert tokens.verify(b"x" * 32, token) is None


def test_an_altered_current_token_is_refused():
    token = tokens.mint_ref(KEY, tokens.UnsubscribeRef(tenant_id="acme", message_id="m1"))
    signature = token.rsplit(".", 1)[1]
    for forged in (
        f"u2.beta.m1.{signature}",
        f"u2.acme.m2.{signature}",
        f"u2.acme.m1.x.{signature}",
        token[:-1],
        token + "é",
        "u2.acme.m1",
        "u2...",
        "é.é",
    ):
        assert tokens.verify(KEY, forged) is None, forged


def test_a_suppression_forgotten_by_erasure_keeps_only_its_hash_and_still_suppresses():
    store = MemorySuppressions()
    now = datetime(2026, 3, 1, tzinfo=UTC)
    store.add(
        Suppression(tenant_id="acme", address="ada@example.com", reason="bounce", source="manual", created_at=now)
    )
    assert store.forget_address("acme", "email", "ada@example.com", now) is True
    (kept,) = store.items.values()
    assert "ada" not in str(kept) and kept["reason"] == "bounce"
    assert store.is_suppressed("acme", "email", "ada@example.com")
    assert store.forget_address("acme", "email", "new@example.com", now) is False  # erasure suppresses too
    assert store.is_suppressed("acme", "email", "new@example.com")
