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
