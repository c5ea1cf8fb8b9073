import pytest

from oie.links.csv_import import parse_leads
from tests.factories import csv_text


def test_emails_are_trimmed_and_lower_cased():
    parsed = parse_leads(csv_text("  Ada@Example.COM ,Ada,Lovelace,Engines,CTO"))
    assert [lead.email for lead in parsed.leads] == ["ada@example.com"]
    assert parsed.leads[0].first_name == "Ada"


def test_bad_rows_are_listed_with_line_number_and_reason_and_the_rest_imported():
    parsed = parse_leads(
        csv_text(
            "ada@example.com,Ada,,,",
            ",NoEmail,,,",
            "not-an-email,Bad,,,",
            "bob@example.com,Bob,,,",
        )
    )
    assert [lead.email for lead in parsed.leads] == ["ada@example.com", "bob@example.com"]
    assert [(e.line, e.field) for e in parsed.errors] == [(3, "email"), (4, "email")]
    assert "empty" in parsed.errors[0].reason
    assert "malformed" in parsed.errors[1].reason


def test_duplicates_are_merged_filling_blanks_without_overwriting():
    parsed = parse_leads(
        csv_text(
            "ada@example.com,Ada,,Engines,",
            "ADA@example.com,Augusta,Lovelace,,CTO",
        )
    )
    (lead,) = parsed.leads
    assert (lead.first_name, lead.last_name, lead.company, lead.title) == (
        "Ada",
        "Lovelace",
        "Engines",
        "CTO",
    )
    assert lead.lines == (2, 3)


def test_extra_columns_become_lead_attributes():
    parsed = parse_leads(csv_text("ada@example.com,UK,Series B", header="Email,Region,Funding Stage"))
    assert parsed.leads[0].attributes == {"region": "UK", "funding_stage": "Series B"}


def test_a_file_without_an_email_column_is_refused_naming_what_it_found():
    with pytest.raises(ValueError, match=r"no email column.*name, company"):
        parse_leads(csv_text("Ada,Engines", header="name,company"))


def test_an_empty_file_is_refused():
    with pytest.raises(ValueError, match="empty"):
        parse_leads([])


def test_overlong_fields_are_skipped_naming_the_field():
    parsed = parse_leads(csv_text(f"ada@example.com,{'x' * 3000},,,"))
    assert parsed.leads == []
    assert parsed.errors[0].field == "first_name"


def test_original_rows_are_kept_for_the_output_file():
    parsed = parse_leads(csv_text("Ada@Example.com,Ada,,,"))
    assert parsed.rows_by_email["ada@example.com"][0]["email"] == "Ada@Example.com"
