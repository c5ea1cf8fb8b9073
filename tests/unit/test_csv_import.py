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


def test_the_output_row_carries_the_normalised_email_and_the_merged_columns():
    parsed = parse_leads(
        csv_text(
            " Ada@Example.com,Ada,,,",
            "ada@example.com,Augusta,Lovelace,,",
            header="Email,First Name,last_name,company,title",
        )
    )
    assert parsed.rows_by_email["ada@example.com"] == {
        "Email": "ada@example.com",
        "First Name": "Ada",
        "last_name": "Lovelace",
        "company": "",
        "title": "",
    }


def test_the_number_of_merged_duplicate_rows_is_counted():
    parsed = parse_leads(
        csv_text("ada@example.com,,,,", "ADA@example.com,,,,", "bob@example.com,,,,", " ada@example.com,,,,")
    )
    assert (parsed.rows_read, len(parsed.leads), parsed.duplicates_merged) == (4, 2, 2)


def test_a_row_with_more_values_than_columns_is_skipped_naming_its_line():
    parsed = parse_leads(csv_text("ada@example.com,Ada,,Acme, Inc,CTO", "bob@example.com,Bob,,Builders,"))
    assert [lead.email for lead in parsed.leads] == ["bob@example.com"]
    (error,) = parsed.errors
    assert (error.line, error.field) == (2, "columns") and "6 values for 5 columns" in error.reason


def test_a_short_row_is_read_with_its_missing_values_empty():
    parsed = parse_leads(csv_text("ada@example.com,Ada"))
    assert parsed.errors == [] and parsed.leads[0].company == ""


def test_a_header_naming_a_column_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        parse_leads(csv_text("ada@example.com,x", header="Email,email"))


def test_tracking_columns_of_an_earlier_output_are_neither_attributes_nor_repeated():
    parsed = parse_leads(csv_text("ada@example.com,OLD1,http://x", header="email,tracking_id,tracking_url"))
    assert parsed.leads[0].attributes == {} and parsed.columns == ["email"]
