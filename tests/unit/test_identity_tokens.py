from datetime import UTC, datetime, timedelta

from oie.identity import tokens

KEY = b"k" * 32
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def token(vid="v1234567890abcd", i="ab3f9k2q", tenant="acme", key=KEY, now=NOW):
    return tokens.mint(key, tenant, i, vid, now)


def test_a_minted_token_verifies_for_its_tenant_link_and_visitor():
    identity = tokens.check(KEY, "acme", token(), "ab3f9k2q", "v1234567890abcd", NOW)
    assert identity == tokens.Identity("verified", "ab3f9k2q", "v1234567890abcd")


def test_the_token_starts_with_the_visitor_id_the_pixel_adopts():
    assert token().split(".")[0] == "v1234567890abcd"


def test_a_token_from_another_key_or_tenant_is_forged():
    assert tokens.check(KEY, "acme", token(key=b"x" * 32), "ab3f9k2q", None, NOW).status == "forged"
    assert tokens.check(KEY, "beta", token(), "ab3f9k2q", None, NOW).status == "forged"


def test_a_tampered_visitor_or_link_is_forged():
    vid, i, exp, sig = token().split(".")
    assert tokens.check(KEY, "acme", f"someoneelse12.{i}.{exp}.{sig}", None, None, NOW).status == "forged"
    assert tokens.check(KEY, "acme", f"{vid}.zzzzzzzz.{exp}.{sig}", None, None, NOW).status == "forged"
    assert tokens.check(KEY, "acme", f"{vid}.{i}.{int(exp) + 1}.{sig}", None, None, NOW).status == "forged"


def test_a_valid_token_presented_with_another_link_proves_nothing():
    assert tokens.check(KEY, "acme", token(), "zzzzzzzz", None, NOW).status == "forged"


def test_garbage_is_forged_not_an_error():
    for bad in ("", "a.b", "....", "x" * 300, "v1234567890abcd.ab3f9k2q.notanumber.sig"):
        assert tokens.check(KEY, "acme", bad or "x", None, None, NOW).status == "forged"


def test_tokens_with_unreadable_digits_or_a_non_ascii_signature_are_forged_not_an_error():
    vid, i, exp, sig = token().split(".")
    for bad in (
        f"{vid}.{i}.\u00b2.{sig}",  # "²" passes str.isdigit() but not int()
        f"{vid}.{i}.{exp}.\u00e9t\u00e9",  # hmac.compare_digest refuses non-ASCII str
        f"{vid}\n.{i}.{exp}.{sig}",  # `$` in a pattern lets a trailing newline through
        f"{vid}.{i}.{'9' * 400}.{sig}",
    ):
        assert tokens.check(KEY, "acme", bad, None, None, NOW).status == "forged"


def test_tokens_expire_after_ninety_days():
    later = NOW + tokens.TOKEN_LIFETIME + timedelta(seconds=1)
    assert tokens.check(KEY, "acme", token(), "ab3f9k2q", None, later).status == "expired"


def test_no_token_is_unverified_with_i_and_anonymous_without():
    assert tokens.check(KEY, "acme", None, "ab3f9k2q", "v1", NOW).status == "unverified"
    assert tokens.check(KEY, "acme", None, None, "v1", NOW).status == "anonymous"
