import pytest

from oie.privacy import client_ip, keep_ip


def test_the_client_is_the_entry_trusted_hops_from_the_right():
    assert client_ip("6.6.6.6, 81.2.69.160", "10.0.0.1", 1) == "81.2.69.160"
    assert client_ip("6.6.6.6, 81.2.69.160, 35.191.0.1", "10.0.0.1", 2) == "81.2.69.160"


def test_without_forwarding_the_peer_address_is_the_client():
    assert client_ip(None, "127.0.0.1", 1) == "127.0.0.1"
    assert client_ip("6.6.6.6", "127.0.0.1", 0) == "127.0.0.1"


@pytest.mark.parametrize(
    ("mode", "ip", "expected"),
    [
        ("truncate", "81.2.69.160", "81.2.69.0"),
        ("truncate", "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("full", "81.2.69.160", "81.2.69.160"),
        ("none", "81.2.69.160", None),
        ("truncate", "garbage", None),
    ],
)
def test_ip_addresses_are_kept_as_the_tenant_chose(mode, ip, expected):
    assert keep_ip(ip, mode, b"k") == expected


def test_hashed_addresses_are_keyed_and_stable():
    one = keep_ip("81.2.69.160", "hash", b"k1")
    assert one == keep_ip("81.2.69.160", "hash", b"k1")
    assert one != keep_ip("81.2.69.160", "hash", b"k2")
    assert one is not None and len(one) == 32 and "." not in one


def test_a_person_is_scrubbed_out_of_a_raw_delivery_and_everyone_else_stays():
    import json

    from oie.retention.scrub import scrub_delivery

    body = json.dumps(
        [
            {"email": "Ada@Example.com", "event": "open", "ip": "81.2.69.160", "contact_campaign_id": "q1_ld_A_email"},
            {"email": "sada@example.com", "event": "click", "url": "https://x/?ref=sada@example.com"},
            {"email": "eve@example.com", "event": "click", "url": "https://x/?fwd=ada@example.com"},
            {"email": "bob@example.com", "event": "delivered", "contact_campaign_id": "q1_ld_A_email"},
        ]
    )
    scrubbed = json.loads(scrub_delivery(body, "ada@example.com", "ld_A"))
    assert scrubbed[0] == {"event": "open", "erased": True}
    assert scrubbed[1]["email"] == "sada@example.com"  # another address that merely ends the same way
    assert scrubbed[2] == {"event": "click", "erased": True}  # it names the person
    assert scrubbed[3] == {"event": "delivered", "erased": True}  # one of the person's messages
    assert "ada@example.com" not in json.dumps(scrubbed).replace("sada@example.com", "")


def test_a_raw_body_that_is_not_json_is_scrubbed_as_text():
    from oie.retention.scrub import scrub_delivery

    assert scrub_delivery("oops ADA@example.com, bada@example.com", "ada@example.com", "") == (
        "oops [erased], bada@example.com"
    )


def test_a_full_name_is_scrubbed_in_any_case_and_spacing_but_not_inside_other_words():
    from oie.retention.scrub import scrub_text

    text = "Ask AUGUSTA  Lovelace or augusta lovelace; not Augusta Lovelaceson."
    assert scrub_text(text, "ada@example.com", full_name="augusta lovelace") == (
        "Ask [erased] or [erased]; not Augusta Lovelaceson."
    )
