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
