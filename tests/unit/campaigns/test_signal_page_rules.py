"""Page classes for page-visit signals: the tenant's rules, else the defaults, cached per tenant."""

from oie.campaigns.page_rules import PageRules, chosen_rules, classify
from tests.unit.campaigns.signal_factories import RulesWarehouse


def test_the_default_rules_class_a_pricing_path_whatever_its_case_and_query():
    rules = chosen_rules("acme", RulesWarehouse.DEFAULTS)
    assert classify(rules, "https://www.acme.com/Pricing?plan=team") == "pricing"
    assert classify(rules, "https://www.acme.com/customers/globex") == "case_study"
    assert classify(rules, "https://www.acme.com/blog/post") is None


def test_a_tenant_with_rules_of_its_own_does_not_get_the_defaults():
    own = {"tenant_id": "acme", "page_class": "pricing", "path_pattern": "^/tarifs"}
    rules = chosen_rules("acme", [*RulesWarehouse.DEFAULTS, own])
    assert classify(rules, "https://www.acme.fr/tarifs") == "pricing"
    assert classify(rules, "https://www.acme.fr/pricing") is None


def test_a_path_two_classes_match_is_given_the_more_telling_one():
    rules = chosen_rules("acme", RulesWarehouse.DEFAULTS)
    assert classify(rules, "https://www.acme.com/product/pricing") == "pricing"


def test_an_unreadable_pattern_is_skipped_not_fatal():
    rows = [
        {"tenant_id": "acme", "page_class": "pricing", "path_pattern": "(unclosed"},
        {"tenant_id": "acme", "page_class": "product", "path_pattern": "^/product"},
    ]
    rules = chosen_rules("acme", rows)
    assert [r.page_class for r in rules] == ["product"]


def test_rules_are_read_once_per_tenant_while_cached():
    warehouse = RulesWarehouse({"tenant_id": "globex", "page_class": "pricing", "path_pattern": "^/cost"})
    pages = PageRules(warehouse)
    assert pages.class_of("acme", "https://a.example/pricing") == "pricing"
    assert pages.class_of("acme", "https://a.example/features") == "product"
    assert pages.class_of("globex", "https://g.example/cost") == "pricing"
    assert pages.class_of("globex", "https://g.example/pricing") is None
    assert warehouse.queries == ["acme", "globex"]
