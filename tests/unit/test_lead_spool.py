"""The on-disk lead spool reads a file exactly as `parse_leads` does, in chunks, keeping the picks."""

from datetime import UTC, datetime

from oie.links.csv_import import parse_leads
from oie.links.spool import LeadSpool
from tests.factories import csv_text

ROWS = csv_text(
    " Ada@Example.com ,Ada,,Engines,",
    "bob@example.com,Bob,Builder,,",
    "not-an-email,Broken,,,",
    "ADA@example.com,Augusta,Lovelace,,CTO",
    "cy@example.com,Cy,,Acme,",
    header="email,first_name,last_name,company,title",
)


def test_a_spooled_file_gives_the_same_leads_rows_and_counts_as_parse_leads(tmp_path):
    parsed = parse_leads(ROWS)
    spool = LeadSpool.read(ROWS, tmp_path / "leads.sqlite")
    spooled = [item for chunk in spool.chunks(2) for item in chunk]
    assert [item.lead for item in spooled] == parsed.leads
    assert [item.row for item in spooled] == [parsed.rows_by_email[lead.email] for lead in parsed.leads]
    assert (spool.summary.errors, spool.summary.rows_read, spool.summary.duplicates_merged) == (
        parsed.errors,
        parsed.rows_read,
        parsed.duplicates_merged,
    )
    assert len(spool) == 3 and spool.summary.columns == parsed.columns


def test_a_spool_of_parsed_leads_reads_them_back_unchanged():
    parsed = parse_leads(ROWS)
    spool = LeadSpool.of(parsed)
    assert [item.lead for chunk in spool.chunks(100) for item in chunk] == parsed.leads


def test_chunks_follow_first_seen_order_across_chunk_boundaries():
    rows = csv_text(*(f"p{n}@example.com,P{n},,," for n in range(7)))
    spool = LeadSpool.read(rows)
    chunks = list(spool.chunks(3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [item.lead.email for c in chunks for item in c] == [f"p{n}@example.com" for n in range(7)]


def test_picked_ids_are_kept_beside_their_leads_until_the_write():
    spool = LeadSpool.read(csv_text("ada@example.com,Ada,,,", "bob@example.com,Bob,,,"))
    (ada, bob), at = next(spool.chunks(10)), datetime(2026, 3, 1, tzinfo=UTC)
    spool.pick([(ada.seq, "ld_ada", "AAAAAAAA", None), (bob.seq, "ld_bob", "BBBBBBBB", at)])
    again = next(spool.chunks(10))
    assert [(i.lead_id, i.tracking_id, i.link_created_at) for i in again] == [
        ("ld_ada", "AAAAAAAA", None),
        ("ld_bob", "BBBBBBBB", at),
    ]
