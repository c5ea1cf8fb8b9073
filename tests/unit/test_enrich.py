import hashlib
from pathlib import Path

import pytest

from oie.adapters.ip_companies import FileCompanyLookup
from oie.track.enrich import device_facts, email_hashes, parse_agent


@pytest.mark.parametrize(
    ("agent", "kind", "browser"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "desktop",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "mobile",
            "Mobile Safari",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "tablet",
            "Mobile Safari",
        ),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot", "Googlebot"),
        ("", "unknown", ""),
    ],
)
def test_user_agents_become_browser_os_and_device_class(agent, kind, browser):
    facts = device_facts(agent)
    assert (facts.device_type, facts.browser) == (kind, browser)


def test_emails_are_hashed_after_normalising():
    hashes = email_hashes("  Ada@Example.COM ")
    assert hashes is not None
    assert hashes.sha256 == hashlib.sha256(b"ada@example.com").hexdigest()
    assert hashes.md5 == hashlib.md5(b"ada@example.com").hexdigest()


def test_things_that_are_not_emails_are_not_hashed():
    assert email_hashes("") is None and email_hashes(None) is None and email_hashes("nobody") is None


def test_the_most_specific_company_range_wins_and_v6_works(tmp_path: Path):
    table = tmp_path / "companies.csv"
    table.write_text(
        "cidr,name,domain\n"
        "81.2.0.0/16,Big ISP,isp.example\n"
        "81.2.69.0/24,Globex,globex.example\n"
        "2001:db8::/32,Initech,initech.example\n"
    )
    lookup = FileCompanyLookup(table)
    assert lookup.lookup("81.2.69.160").name == "Globex"
    assert lookup.lookup("81.2.70.1").name == "Big ISP"
    assert lookup.lookup("2001:db8::1").domain == "initech.example"
    assert lookup.lookup("9.9.9.9") is None and lookup.lookup("bogus") is None


def test_no_file_means_no_companies():
    assert FileCompanyLookup(None).lookup("81.2.69.160") is None


@pytest.mark.parametrize("raw", ["ada\ud800@example.com", "ada@exa\x00mple.com", "a@" + "x" * 400])
def test_an_email_that_cannot_be_stored_is_not_hashed_and_does_not_crash(raw):
    assert email_hashes(raw) is None


def test_device_facts_are_cached_by_the_part_of_the_agent_that_is_read():
    parse_agent.cache_clear()
    long_agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36 " + "x" * 100_000
    for n in range(20):
        assert device_facts(long_agent + str(n)).browser == "Chrome"
    assert parse_agent.cache_info().currsize == 1  # 20 agents alike in their first 512 characters


def test_control_characters_in_a_user_agent_are_read_not_crashed_on():
    assert device_facts("Mozilla/5.0\x00\r\n\ud800 (X11; Linux x86_64)").device_type in ("desktop", "unknown")


def test_agents_are_parsed_by_ua_parsers_native_resolver():
    # ua-parser-rs, a runtime dependency: an agent never seen before (in-app browsers carry build
    # numbers) costs ~25 us to parse instead of ~1 ms; the same rules, the same answers.
    import ua_parser
    from ua_parser.regex import Resolver

    assert ua_parser.BestAvailableResolver is Resolver
