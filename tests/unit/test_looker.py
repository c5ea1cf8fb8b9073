"""The Looker Studio link: one BigQuery data source per view, encoded, and ids checked."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from oie.warehouse.looker import DEFAULT_VIEWS, LINKING_API_URL, report_link


def params(url: str) -> dict[str, str]:
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert len(pairs) == len(dict(pairs)), "a parameter appears twice"
    return dict(pairs)


def test_the_default_views_are_the_five_analyst_views():
    assert DEFAULT_VIEWS == (
        "high_intent_leads",
        "campaign_performance",
        "recent_sessions",
        "intent_distribution",
        "lead_timeline",
    )


def test_every_view_becomes_a_bigquery_table_data_source_of_the_project_and_dataset():
    url = report_link("acme-prod", "oie")
    assert url.startswith(LINKING_API_URL + "?")
    got = params(url)
    for view in DEFAULT_VIEWS:
        assert {k: v for k, v in got.items() if k.startswith(f"ds.{view}.")} == {
            f"ds.{view}.connector": "bigQuery",
            f"ds.{view}.type": "TABLE",
            f"ds.{view}.projectId": "acme-prod",
            f"ds.{view}.datasetId": "oie",
            f"ds.{view}.tableId": view,
            f"ds.{view}.datasourceName": view,
        }
    assert got["c.mode"] == "edit"
    assert got["r.reportName"] == "Outbound Intent Engine"


def test_without_a_template_no_report_id_is_sent():
    assert "c.reportId" not in params(report_link("acme-prod", "oie"))


def test_a_template_report_is_named_by_its_id():
    got = params(report_link("acme-prod", "oie", template_report_id="0b7c6a3e-1234-4c1d-9e2f-abcdef012345"))
    assert got["c.reportId"] == "0b7c6a3e-1234-4c1d-9e2f-abcdef012345"


def test_only_the_views_asked_for_are_linked():
    got = params(report_link("acme-prod", "oie", views=["campaign_performance"]))
    assert {k.split(".")[1] for k in got if k.startswith("ds.")} == {"campaign_performance"}


def test_the_link_is_url_encoded():
    url = report_link("acme-prod", "oie", report_name="Intent & pipeline: Q1")
    query = urlsplit(url).query
    assert " " not in url and "&pipeline" not in query and ": " not in query
    assert "r.reportName=Intent+%26+pipeline%3A+Q1" in query
    assert params(url)["r.reportName"] == "Intent & pipeline: Q1"


def test_a_legacy_domain_scoped_project_id_is_accepted():
    assert params(report_link("example.com:acme-prod", "oie"))["ds.lead_timeline.projectId"] == "example.com:acme-prod"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"project": "Acme-Prod"}, "project"),
        ({"project": "ab"}, "project"),
        ({"project": "acme-prod&ds.x.tableId=secrets"}, "project"),
        ({"project": "acme-prod-"}, "project"),
        ({"project": ""}, "project"),
        ({"dataset": "oie-views"}, "dataset"),
        ({"dataset": "oie&c.mode=view"}, "dataset"),
        ({"dataset": ""}, "dataset"),
        ({"views": []}, "views"),
        ({"views": "high_intent_leads"}, "views"),
        ({"views": ["lead timeline"]}, "views"),
        ({"views": ["lead_timeline", "lead_timeline"]}, "views"),
        ({"template_report_id": "abc/../def"}, "template_report_id"),
    ],
)
def test_bad_ids_are_refused_naming_the_argument(kwargs, argument):
    call = {"project": "acme-prod", "dataset": "oie", **kwargs}
    with pytest.raises(ValueError, match=f"^{argument}: "):
        report_link(**call)
