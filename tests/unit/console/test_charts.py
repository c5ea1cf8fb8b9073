"""The SVG charts: valid XML, accessible, labels escaped, and a message when there is nothing to draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from oie.console import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_bars_are_valid_svg_with_a_title_and_the_numbers_in_the_label():
    svg = parse(charts.bars([("burning", 2), ("hot", 5), ("warm", 0)], "Leads by level"))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Leads by level"
    assert svg.get("aria-label") == "Leads by level: burning 2, hot 5, warm 0"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"burning", "hot", "warm", "2", "5"} <= set(texts)
    assert len(list(svg.iter(f"{SVG}rect"))) == 3


def test_a_line_skips_unknown_days_and_names_them_in_the_label():
    svg = parse(charts.line([("03-09", None), ("03-10", 12.5), ("03-11", 40)], "Score"))
    assert svg.get("aria-label") == "Score: 03-09 no score, 03-10 12.5, 03-11 40"
    assert len(list(svg.iter(f"{SVG}circle"))) == 2
    # A 0-100 scale (0, 50, 100 on the axis), the latest value written beside its point.
    assert {"03-09", "03-11", "0", "50", "100", "40"} <= {t.text for t in svg.iter(f"{SVG}text")}


def test_the_scale_grows_past_its_top_when_a_value_is_higher():
    svg = parse(charts.line([("a", 120.0), ("b", 130.0)], "Score"))
    assert {"65", "130"} <= {t.text for t in svg.iter(f"{SVG}text")}


def test_a_sparkline_fits_a_table_cell():
    svg = parse(charts.sparkline([None, 1, 3, 3], "Ada, 7 days"))
    assert svg.get("width") == "80" and svg.get("aria-label") == "Ada, 7 days: none, 1, 3, 3"
    assert "no score yet" in charts.sparkline([None, None], "x")


def test_the_funnel_shows_each_step_with_its_share_of_the_first():
    svg = parse(charts.funnel([("sent", 200), ("opened", 50), ("won", 1)]))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["sent", "200 ", "opened", "50 25%", "won", "1 0%"]
    assert svg.get("aria-label") == "Funnel: sent 200, opened 50, won 1"


def test_labels_are_escaped():
    markup = str(charts.bars([("<script>&", 1)], 'a "quoted" <title>'))
    assert "<script>" not in markup
    svg = parse(markup)
    assert svg.find(f"{SVG}title").text == 'a "quoted" <title>'
    assert "<script>&" in [t.text for t in svg.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    "chart",
    [
        lambda: charts.bars([], "t"),
        lambda: charts.bars([("a", 0)], "t"),
        lambda: charts.line([("d", None)], "t"),
        lambda: charts.funnel([]),
        lambda: charts.funnel([("sent", 0)]),
    ],
)
def test_nothing_to_draw_is_a_message_not_an_empty_chart(chart):
    html = str(chart())
    assert html.startswith('<p class="chart-empty">') and "<svg" not in html


def test_an_empty_state_message_is_escaped():
    assert str(charts.bars([], "t", empty="<b>Import leads</b>")) == (
        '<p class="chart-empty">&lt;b&gt;Import leads&lt;/b&gt;</p>'
    )
