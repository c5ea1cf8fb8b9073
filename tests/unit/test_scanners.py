import pytest

from oie.go.scanners import classify, scanner_network

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def test_a_real_browser_click_is_human():
    verdict = classify("GET", CHROME, "81.2.69.160")
    assert verdict == verdict.__class__(is_bot=False, reasons=())


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b",
            "microsoft_safe_links",
        ),
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5095; Pro)",
            "microsoft_safe_links",
        ),
        ("Barracuda Sentinel (EE)", "barracuda"),
        ("Mimecast URL Protect", "mimecast"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
            "headless_browser",
        ),
        ("python-requests/2.32.3", "http_library"),
        ("curl/8.5.0", "http_library"),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "link_preview"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler"),
    ],
)
def test_scanner_and_bot_user_agents_are_flagged_with_their_name(agent, reason):
    verdict = classify("GET", agent, None)
    assert verdict.is_bot
    assert f"user_agent:{reason}" in verdict.reasons


def test_head_requests_are_bots():
    assert classify("HEAD", CHROME, None).reasons == ("head_request",)


def test_a_missing_user_agent_is_a_bot():
    assert "no_user_agent" in classify("GET", "", None).reasons


@pytest.mark.parametrize(
    ("ip", "provider"),
    [
        ("40.107.22.5", "microsoft_eop"),
        ("148.163.130.1", "proofpoint"),
        ("2a01:111:f400:7e00::1", "microsoft_eop"),
    ],
)
def test_clicks_from_published_scanner_networks_are_flagged(ip, provider):
    assert scanner_network(ip) == provider
    assert f"network:{provider}" in classify("GET", CHROME, ip).reasons


def test_unparseable_addresses_are_not_scanner_networks():
    assert scanner_network("not-an-ip") is None
    assert scanner_network(None) is None


def test_an_agent_is_judged_the_same_the_second_time_and_past_the_cached_length():
    long_tail = "Mozilla/5.0 " + "x" * 600 + " Barracuda"
    for _ in range(2):
        assert classify("GET", "Mozilla/5.0 (compatible; Mimecast)", None).reasons == ("user_agent:mimecast",)
        assert classify("GET", long_tail, None).reasons == ("user_agent:barracuda",)
        assert classify("GET", CHROME, "81.2.69.160").reasons == ()


def test_addresses_just_outside_a_published_network_are_not_flagged():
    assert scanner_network("40.107.0.0") == "microsoft_eop"  # the network's first address
    assert scanner_network("40.106.255.255") is None
