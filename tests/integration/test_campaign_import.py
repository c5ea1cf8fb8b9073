"""`oie tenant create` and `oie campaign create` against the Firestore emulator and DuckDB."""

import csv
import json

import pytest
from click.testing import CliRunner

from oie.cli.main import cli
from oie.tenants.models import AlertChannel

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


def import_file(runner, tmp_path, text, *extra, out=None, tenant="acme"):
    source = tmp_path / "in.csv"
    source.write_text(text)
    return runner.invoke(
        cli,
        [
            "campaign",
            "create",
            "--tenant",
            tenant,
            "--campaign",
            "Q2",
            "--file",
            str(source),
            "--landing",
            "https://www.acme.com/demo",
            "--out",
            str(out or tmp_path / "links.csv"),
            *extra,
        ],
    )


def stored_leads(app):
    return list(app.firestore.collection("tenants/acme/leads").stream())


def test_a_row_with_an_extra_column_is_skipped_and_the_links_file_matches_what_was_stored(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    text = (
        "email,first_name,company\n Ada@Example.com ,Ada,Engines\nbob@example.com,Bob,Acme, Inc\nADA@example.com,,Eng\n"
    )
    result = import_file(runner, tmp_path, text)
    assert result.exit_code == 1, result.output
    assert "skipped line 3: columns: 4 values for 3 columns" in result.output
    assert "1 leads imported, 1 rows skipped, 1 duplicate rows merged" in result.output
    rows = list(csv.DictReader((tmp_path / "links.csv").read_text().splitlines()))
    assert [(r["email"], r["first_name"], r["company"]) for r in rows] == [("ada@example.com", "Ada", "Engines")]
    assert len(stored_leads(app)) == 1


def test_an_import_that_cannot_write_its_links_file_writes_nothing_and_exits_2(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    result = import_file(runner, tmp_path, LEADS, out=tmp_path / "missing" / "links.csv")
    assert result.exit_code == 2, result.output
    assert "[out]" in result.output
    assert stored_leads(app) == [] and app.links.get("x") is None
    assert app.warehouse.sql("select count(*) as n from identity_map") == [{"n": 0}]


@pytest.mark.parametrize(
    ("text", "tenant", "field"),
    [
        ("email\nnot-an-email\n", "acme", "[file]"),
        ("name\nAda\n", "acme", "[file]"),
        ("email\nada@example.com\n", "nobody", "[tenant]"),
    ],
)
def test_an_import_that_imports_nothing_exits_2_naming_why(app, tmp_path, text, tenant, field):
    runner = CliRunner()
    create_tenant(runner)
    result = import_file(runner, tmp_path, text, tenant=tenant)
    assert result.exit_code == 2, result.output
    assert field in result.output and stored_leads(app) == []


def test_the_import_answers_in_json_with_every_count(app, tmp_path):
    runner = CliRunner()
    create_tenant(runner)
    result = import_file(runner, tmp_path, LEADS, "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert (answer["imported"], answer["duplicates_merged"], answer["rows_read"]) == (2, 1, 5)
    assert [s["line"] for s in answer["skipped"]] == [4, 5]


def configure(app):
    tenant = app.tenants.get("acme")
    channel = {"kind": "slack", "url": "https://hooks.slack.com/services/T/B/x"}
    app.tenants.put(
        tenant.model_copy(
            update={
                "alert_channels": (AlertChannel.model_validate(channel),),
                "sendgrid_webhook_public_key": "MFkw-key",
                "reply_domain": "reply.acme.com",
                "ip_mode": "hash",
                "retention_days": 90,
            }
        )
    )


def test_replace_changes_only_the_options_given_and_keeps_the_rest(app):
    runner = CliRunner()
    create_tenant(runner)
    configure(app)
    before = app.tenants.get("acme")
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
    assert result.exit_code == 0, result.output
    after = app.tenants.get("acme")
    assert after.name == "Acme 2"
    assert after.model_copy(update={"name": before.name}) == before


def test_tenant_update_sets_one_field_and_keeps_every_other(app):
    runner = CliRunner()
    create_tenant(runner)
    configure(app)
    before = app.tenants.get("acme")
    result = runner.invoke(
        cli,
        [
            "tenant",
            "update",
            "--tenant",
            "acme",
            "--set",
            "reply_domain=r.acme.com",
            "--add",
            "go_hosts=links.acme.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "changed go_hosts, reply_domain" in result.output
    after = app.tenants.get("acme")
    assert after == before.model_copy(update={"reply_domain": "r.acme.com", "go_hosts": ("links.acme.com",)})
    removed = runner.invoke(
        cli,
        [
            "tenant",
            "update",
            "--tenant",
            "acme",
            "--remove",
            "alert_channels=https://hooks.slack.com/services/T/B/x",
            "--json",
        ],
    )
    assert json.loads(removed.stdout)["alert_channels"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("redirect_domains=not a domain", "redirect_domains"),
        ("retention_days=9999", "retention_days"),
        ("colour=blue", "[colour]"),
        ("id_secret_ref=local:b3RoZXI=", "[id_secret_ref]"),
    ],
)
def test_tenant_update_refuses_what_the_model_refuses_naming_the_field(app, change, message):
    runner = CliRunner()
    create_tenant(runner)
    before = app.tenants.get("acme")
    result = runner.invoke(cli, ["tenant", "update", "--tenant", "acme", "--set", change])
    assert result.exit_code == 1 and message in result.output
    assert app.tenants.get("acme") == before
