"""`oie tenant create` and `oie campaign create` against the Firestore emulator and DuckDB."""

import csv

import pytest
from click.testing import CliRunner

from oie.cli.main import cli

pytestmark = pytest.mark.firestore

LEADS = """email,first_name,last_name,company,title,region
Ada@Example.com ,Ada,Lovelace,Engines,CTO,UK
bob@example.com,Bob,,Builders,,US
,NoEmail,,,,
not-an-email,Broken,,,,
ada@example.com,,,,,EU
"""


def create_tenant(runner):
    return runner.invoke(
        cli,
        [
            "tenant",
            "create",
            "--id",
            "acme",
            "--name",
            "Acme",
            "--redirect-domain",
            "acme.com",
            "--landing",
            "https://www.acme.com/",
            "--origin",
            "https://www.acme.com",
        ],
    )


def import_campaign(runner, tmp_path, out="links.csv"):
    source = tmp_path / "leads.csv"
    source.write_text(LEADS)
    return runner.invoke(
        cli,
        [
            "campaign",
            "create",
            "--tenant",
            "acme",
            "--campaign",
            "Q1 Enterprise",
            "--file",
            str(source),
            "--landing",
            "https://www.acme.com/demo",
            "--out",
            str(tmp_path / out),
        ],
    )


def test_import_writes_links_firestore_documents_and_identity_rows(app, tmp_path):
    runner = CliRunner()
    assert create_tenant(runner).exit_code == 0
    result = import_campaign(runner, tmp_path)

    assert result.exit_code == 1, result.output  # some rows were skipped
    assert "skipped line 4: email: email is empty" in result.output
    assert "skipped line 5: email: email is malformed" in result.output
    with (tmp_path / "links.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["email"].strip().lower() for r in rows] == ["ada@example.com", "bob@example.com"]
    assert list(rows[0])[-2:] == ["tracking_id", "tracking_url"]
    assert rows[0]["region"] == "UK" and rows[0]["tracking_url"].endswith(f"/go?i={rows[0]['tracking_id']}")

    link = app.links.get(rows[0]["tracking_id"])
    assert link is not None and link.tenant_id == "acme" and link.campaign_id == "q1-enterprise"
    lead_doc = app.firestore.document(f"tenants/acme/leads/{link.lead_id}").get().to_dict()
    assert lead_doc["email"] == "ada@example.com" and lead_doc["attributes"] == {"region": "UK"}
    identity = app.warehouse.sql("select tracking_id, lead_id, campaign_id from identity_map order by tracking_id")
    assert {r["tracking_id"] for r in identity} == {r["tracking_id"] for r in rows}


def test_reimporting_keeps_every_id_and_adds_no_rows(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    import_campaign(runner, tmp_path, "first.csv")
    import_campaign(runner, tmp_path, "second.csv")
    first = (tmp_path / "first.csv").read_text()
    assert first == (tmp_path / "second.csv").read_text()
    assert app.warehouse.sql("select count(*) as n from identity_map") == [{"n": 2}]


def test_a_clean_file_exits_zero(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    source = tmp_path / "clean.csv"
    source.write_text("email\nada@example.com\n")
    result = runner.invoke(
        cli,
        [
            "campaign",
            "create",
            "--tenant",
            "acme",
            "--campaign",
            "Clean",
            "--file",
            str(source),
            "--landing",
            "https://acme.com/",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 0, result.output


def test_a_landing_page_off_the_tenants_domains_fails_naming_the_option(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    source = tmp_path / "leads.csv"
    source.write_text(LEADS)
    result = runner.invoke(
        cli,
        [
            "campaign",
            "create",
            "--tenant",
            "acme",
            "--campaign",
            "X",
            "--file",
            str(source),
            "--landing",
            "https://evil.com/",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code != 0 and "[landing]" in result.output


def test_a_tenant_with_a_bad_domain_is_refused_naming_the_field(app):
    result = CliRunner().invoke(
        cli,
        [
            "tenant",
            "create",
            "--id",
            "acme",
            "--name",
            "Acme",
            "--redirect-domain",
            "not a domain",
            "--landing",
            "https://acme.com/",
        ],
    )
    assert result.exit_code != 0 and "redirect_domains" in result.output


def test_creating_a_tenant_twice_is_a_conflict_and_replace_keeps_the_id_secret(app):
    runner = CliRunner()
    create_tenant(runner)
    secret_before = app.tenants.get("acme").id_secret_ref
    assert "exists" in create_tenant(runner).output
    result = runner.invoke(
        cli,
        [
            "tenant",
            "create",
            "--id",
            "acme",
            "--name",
            "Acme 2",
            "--redirect-domain",
            "acme.com",
            "--landing",
            "https://www.acme.com/",
            "--replace",
        ],
    )
    assert result.exit_code == 0
    tenant = app.tenants.get("acme")
    assert tenant.name == "Acme 2" and tenant.id_secret_ref == secret_before
