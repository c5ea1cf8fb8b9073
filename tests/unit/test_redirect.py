import pytest

from oie.go.redirect import is_allowed_url, resolve_target, with_params

DOMAINS = ("acme.com",)
LANDING = "https://www.acme.com/demo"


@pytest.mark.parametrize(
    "to",
    [
        "https://acme.com/pricing",
        "https://www.acme.com/pricing?plan=pro#faq",
        "http://blog.acme.com/post",
        "https://WWW.ACME.COM./x",
    ],
)
def test_targets_on_the_tenants_domains_are_followed(to):
    assert resolve_target(LANDING, to, DOMAINS) == to


def test_relative_paths_resolve_against_the_landing_page():
    assert resolve_target(LANDING, "/pricing?x=1", DOMAINS) == "https://www.acme.com/pricing?x=1"


@pytest.mark.parametrize(
    "to",
    [
        "https://evil.com/",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "https://acme.com.evil.com/",
        "https://evilacme.com/",
        "https://acme.com@evil.com/",
        "https://evil.com\\@acme.com/",
        "https://evil.com%5C@acme.com/",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "https:evil.com",
        "\t//evil.com",
        "/%09/evil.com",
        "%2F%2Fevil.com",
        "https://evil.com%2F@acme.com",
        "ftp://acme.com/file",
        "https://acme.com:99999/",
    ],
)
def test_targets_anywhere_else_fall_back_to_the_landing_page(to):
    assert resolve_target(LANDING, to, DOMAINS) == LANDING


def test_no_target_means_the_landing_page():
    assert resolve_target(LANDING, None, DOMAINS) == LANDING
    assert resolve_target(LANDING, "", DOMAINS) == LANDING


def test_internationalised_domains_compare_in_punycode():
    assert is_allowed_url("https://bücher.example/", ("xn--bcher-kva.example",))
    assert not is_allowed_url("https://bücher.example.evil.com/", ("xn--bcher-kva.example",))


def test_with_params_replaces_an_existing_i_and_keeps_query_and_fragment():
    url = with_params("https://www.acme.com/demo?i=forged&utm=mail#top", {"i": "ab3f9k2q"})
    assert url == "https://www.acme.com/demo?utm=mail&i=ab3f9k2q#top"
