"""Charts keep every label whole and inside the chart; the waterfall adds up.

Labels are measured with the same widths the charts use, so these tests check the layout's
arithmetic (margins, wrapping, columns); ``test_report.py`` checks the result in a browser."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casebridge.audit import charts
from casebridge.audit.text import text_width, wrap
from casebridge.link.explain import waterfall_svg

# labels as long and as unbroken as real ones get: ONS 18+1 names, Splink level labels, words
# with no space to break at
WORDS = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=90
).filter(lambda label: label.strip() == label and label.strip())
LONG = (
    "B1 Black/African/Caribbean/Black British - Caribbean",
    "M9 Mixed - Any other Mixed/Multiple ethnic background",
    "postcode: the same postcode district (exact match)",
    "R1 Penetration of a 13-15-year-old by an adult recorded as a lesser offence, or closed",
    "Supercalifragilisticexpialidociousandevenlongerwithoutanywheretobreak",
)


def _texts(svg: str) -> list[tuple[str, float, list[tuple[float, float, str]]]]:
    """Each <text>: its anchor, its font size, and its lines as (x, baseline, text)."""
    found = []
    pattern = r'<text text-anchor="(\w+)" fill="[^"]*"(?: font-size="([\d.]+)")?>(.*?)</text>'
    for anchor, size, body in re.findall(pattern, svg):
        spans = re.findall(r'<tspan x="([-\d.]+)" y="([-\d.]+)">(.*?)</tspan>', body)
        lines = [(float(x), float(y), html.unescape(t)) for x, y, t in spans]
        found.append((anchor, float(size or charts.SIZE), lines))
    return found


def _boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each line of text as (text, left, top, right, bottom), by the charts' own measure."""
    boxes = []
    for anchor, size, lines in _texts(svg):
        for x, baseline, text in lines:
            length = text_width(text, size)
            left = {"start": x, "middle": x - length / 2, "end": x - length}[anchor]
            boxes.append(
                (text, left, baseline - 0.93 * size, left + length, baseline + 0.24 * size)
            )
    return boxes


def _assert_inside(svg: str) -> None:
    """Every line of text lies within the chart, and no two lines overlap."""
    found = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert found
    width, height = float(found.group(1)), float(found.group(2))
    boxes = _boxes(svg)
    for text, left, top, right, bottom in boxes:
        assert left >= -0.5 and right <= width + 0.5, (text, left, right, width)
        assert top >= -0.5 and bottom <= height + 0.5, (text, top, bottom, height)
    for i, (first, *a) in enumerate(boxes):
        for second, *b in boxes[i + 1 :]:
            across = min(a[2], b[2]) - max(a[0], b[0])
            down = min(a[3], b[3]) - max(a[1], b[1])
            assert across <= 1 or down <= 1, (first, second)


def _assert_whole(svg: str, labels: list[str]) -> None:
    """Each label is drawn whole: its lines, put back together, are the label."""
    drawn = {"".join(t for *_, t in lines).replace(" ", "") for *_, lines in _texts(svg)}
    for label in labels:
        assert label.replace(" ", "") in drawn, label


@given(WORDS, st.floats(min_value=20, max_value=400))
def test_wrapping_keeps_every_character_and_fits_the_width(text: str, width: float) -> None:
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(len(line) == 1 or text_width(line) <= width for line in lines)


@settings(max_examples=40, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=6, unique=True))
def test_bar_and_interval_labels_are_whole_and_inside(labels: list[str]) -> None:
    items = [(label, None if i % 3 == 2 else 10**i) for i, label in enumerate(labels)]
    bar_chart = charts.bars("b", "bars", items)
    rows = [charts.Interval(label, 0.1, 0.9, 0.5, 0.3, 0.05, 0.95) for label in labels]
    interval_chart = charts.intervals("i", "intervals", rows)
    for svg in (bar_chart, interval_chart):
        _assert_whole(svg, labels)
        _assert_inside(svg)


@pytest.mark.parametrize("label", LONG)
def test_no_chart_cuts_a_long_label(label: str) -> None:
    drawn = [
        charts.bars("b", "t", [(label, 12)]),
        charts.intervals("i", "t", [charts.Interval(label, 0.0, 1.0)]),
        charts.heatmap("h", "t", [label], ["2024"], {(label, "2024"): 0.5}),
        charts.stacked("s", "t", [(label, [1, None, 3])], ["same", "different", "unsure"]),
        charts.upset("u", "t", [([label], 120), ([label, "other"], None)], [label, "other"]),
        charts.weights("w", "t", [("comparison", label, 3.0), ("comparison", "x", -2.0)]),
        charts.waterfall("f", "t", [("prior", label, -10.0), ("total", "done", -10.0)]),
        charts.lines("l", "t", ["2023", "2024"], {label: [0.5, 0.6]}),
    ]
    for svg in drawn:
        _assert_inside(svg)
        assert label.replace(" ", "") in "".join(
            t for *_, lines in _texts(svg) for *_, t in lines
        ).replace(" ", ""), svg


def test_the_waterfall_runs_on_from_each_step_and_draws_its_total_from_zero() -> None:
    rows = [
        ("prior", "two records picked at random", -12.0),
        ("forename", "the same", 8.0),
        ("surname", "spelt almost the same", 5.0),
        ("date of birth", "disagree", -3.0),
        ("total", "match probability 0.0312", -2.0),
    ]
    svg = waterfall_svg("a ~ b", rows)
    bars = [
        (float(x), float(w))
        for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" height="14" width="([\d.]+)"', svg)
    ]
    assert len(bars) == len(rows)
    scale = bars[0][1] / 12  # the prior's bar is 12 long
    zero = bars[0][0] + bars[0][1]  # and ends at zero
    running = 0.0
    for (x, width), (_, _, weight) in zip(bars[:-1], rows[:-1], strict=True):
        start, running = running, running + weight
        assert x == pytest.approx(zero + min(start, running) * scale, abs=0.2)
        assert width == pytest.approx(abs(weight) * scale, abs=0.2)
    total_x, total_width = bars[-1]
    assert total_x == pytest.approx(zero - 2 * scale, abs=0.2)  # from zero to −2
    assert total_width == pytest.approx(2 * scale, abs=0.2)
    labels = [t for *_, lines in _texts(svg) for *_, t in lines]
    assert "\u22122.0" in labels and "+8.0" in labels
    _assert_inside(svg)
