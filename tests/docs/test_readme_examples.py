"""Every example in README.md and docs/*.md runs or validates (see tests/docs/examples.py)."""

from __future__ import annotations

import pytest

from tests.docs.examples import REPO, Block, blocks, check_block, check_markdown

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _all_blocks() -> list[Block]:
    return [b for path in DOCUMENTS for b in blocks(path.read_text(), str(path.relative_to(REPO)))]


@pytest.mark.parametrize("block", _all_blocks(), ids=lambda b: f"{b.where}-{b.lang or 'none'}")
def test_the_example_is_what_it_claims_to_be(block: Block) -> None:
    assert check_block(block) == []


def test_the_readme_has_examples_of_each_checked_kind() -> None:
    found = _all_blocks()
    assert any(b.kind == "plan" for b in found)
    assert any(b.lang == "sh" and "oie " in b.text for b in found)
    assert any(b.lang == "sh" and "make " in b.text for b in found)


# ---- the checks refuse what is broken ---------------------------------------------------------

PLAN = """{"version": "1.0", "startNodeId": "intro", "nodes": [
  {"id": "intro", "type": "send", "template": {"subject": "Hi", "text": "{{unsubscribe_link}}"},
   "transitions": [{"on": "no_open", "%s": "P3D", "to": "done"}]},
  {"id": "done", "type": "stop"}]}"""


def markdown(lang: str, body: str, kind: str | None = None) -> str:
    marker = f"<!-- example: {kind} -->\n" if kind else ""
    return f"Some text.\n\n{marker}```{lang}\n{body}\n```\n"


def test_a_valid_plan_passes_and_the_old_readme_plan_is_refused() -> None:
    assert check_markdown(markdown("json", PLAN % "after", "plan")) == []
    problems = check_markdown(markdown("json", PLAN % "within", "plan"))
    assert len(problems) == 1 and "nodes[0].transitions[0].after" in problems[0]


def test_a_json_block_without_a_kind_or_not_json_is_refused() -> None:
    assert "mark the JSON example" in check_markdown(markdown("json", PLAN % "after"))[0]
    assert "not JSON" in check_markdown(markdown("json", "{'single': 'quotes'}", "plan"))[0]
    assert "unknown example kind" in check_markdown(markdown("json", "{}", "recipe"))[0]


def test_track_batches_tenants_and_openapi_examples_are_checked_against_their_models() -> None:
    good = '{"v": 1, "tenant": "acme", "vid": "v1234567", "sid": "s12345", "events": [{"id": "e1234567", "type": "scroll", "ts": 1, "url": "https://a.example/", "props": {"depth": 50}}]}'
    assert check_markdown(markdown("json", good, "track-batch")) == []
    bad_props = good.replace('"depth": 50', '"depth": 33')
    assert "refused" in check_markdown(markdown("json", bad_props, "track-batch"))[0]
    assert "refused" in check_markdown(markdown("json", '{"tenant_id": "acme"}', "tenant"))[0]
    error = '{"error": {"code": "invalid_input", "message": "m", "field": "f"}}'
    assert check_markdown(markdown("json", error, "openapi Error")) == []
    assert "refused" in check_markdown(markdown("json", '{"error": {"code": 1}}', "openapi Error"))[0]


def test_an_oie_command_or_option_that_does_not_exist_is_refused() -> None:
    assert check_markdown(markdown("sh", ".venv/bin/oie jobs run score --remote")) == []
    assert "no option --remoet" in check_markdown(markdown("sh", "oie jobs run score --remoet"))[0]
    assert "no command 'jbos'" in check_markdown(markdown("sh", "oie jbos status"))[0]
    assert "is a group" in check_markdown(markdown("sh", "oie jobs"))[0]
    continued = "oie tenant create --id acme \\\n    --no-such-flag x"
    assert "no option --no-such-flag" in check_markdown(markdown("sh", continued))[0]


def test_make_targets_and_variables_must_exist() -> None:
    assert check_markdown(markdown("sh", "make run PORT=9000   # a comment")) == []
    problems = check_markdown(markdown("sh", "make rnu PROT=9000"))
    assert any("no target 'rnu'" in p for p in problems) and any("no variable PROT" in p for p in problems)


def test_curl_examples_must_hit_routes_that_exist() -> None:
    ok = "curl -X POST -H 'Authorization: Bearer oie_x.y' -d '{}' http://127.0.0.1:8080/outcomes/t/acme/outcomes"
    assert check_markdown(markdown("sh", ok)) == []
    assert (
        "no route GET /outcomes/t/acme/nothing"
        in check_markdown(markdown("sh", "curl http://127.0.0.1:8080/outcomes/t/acme/nothing"))[0]
    )
    assert "no route DELETE /track" in check_markdown(markdown("sh", "curl -X DELETE http://127.0.0.1:8080/track"))[0]


def test_unknown_programs_and_fences_without_a_language_are_refused() -> None:
    assert "no check knows `rm`" in check_markdown(markdown("sh", "rm -rf .oie-data"))[0]
    assert "give the fence a language" in check_markdown(markdown("", "anything"))[0]
    assert check_markdown(markdown("text", "any output")) == []


def test_a_tag_example_must_load_scripts_the_pixel_build_makes() -> None:
    tag = '<script async src="https://links.acme.com/static/oie.js" data-tenant="acme"></script>'
    assert check_markdown(markdown("html", tag)) == []
    assert "no oie-x.js" in check_markdown(markdown("html", tag.replace("oie.js", "oie-x.js")))[0]


def test_a_sql_example_must_show_a_named_query_as_it_is_written() -> None:
    good = "-- name: lead_scores\n-- params: tenant_id STRING, limit_rows INT64"
    assert check_markdown(markdown("sql", good)) == []
    assert "has no line" in check_markdown(markdown("sql", good.replace("INT64", "STRING")))[0]
    assert "no named query 'nothing'" in check_markdown(markdown("sql", "-- name: nothing"))[0]
