from datetime import UTC, datetime

from oie.adapters.bigquery_warehouse import jsonable, merge_sql, query_parameter
from oie.warehouse.dialect import check_bigquery


def test_query_parameters_carry_bigquery_types():
    assert query_parameter("n", 3).type_ == "INT64"
    assert query_parameter("ok", True).type_ == "BOOL"
    assert query_parameter("at", datetime(2026, 1, 1, tzinfo=UTC)).type_ == "TIMESTAMP"
    assert query_parameter("ids", ["a", "b"]).array_type == "STRING"


def test_rows_for_streaming_inserts_have_iso_timestamps():
    assert jsonable({"at": datetime(2026, 1, 1, tzinfo=UTC), "n": 1}) == {
        "at": "2026-01-01T00:00:00+00:00",
        "n": 1,
    }


def test_the_upsert_merge_is_valid_bigquery_and_keys_on_the_given_fields():
    sql = merge_sql(
        "identity_map",
        "p.d._staging_x",
        ["tenant_id", "tracking_id", "lead_id"],
        ["tenant_id", "tracking_id"],
    )
    check_bigquery(sql)
    assert "on t.tenant_id = s.tenant_id and t.tracking_id = s.tracking_id" in sql
    assert "update set lead_id = s.lead_id" in sql
