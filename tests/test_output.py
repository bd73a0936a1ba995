"""Results print as they are: no markup read, no cell cut to a terminal's width, and CSV and
JSON that a script reads back to the same values."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from casebridge.output import Column, Emitter, OutputFormat, Result, neutralise_cell

COLUMNS = (Column("name"), Column("rows", "rows read", ","), Column("share", form=".1%"))


def _result(text: str) -> Result:
    return Result("sample", "a [bold]title", COLUMNS, [(text, 12345, 0.25), ("none", None, None)])


def _table_text(result: Result) -> str:
    out = io.StringIO()
    Emitter(OutputFormat.table, Console(file=out, markup=False, emoji=False)).add(result)
    return out.getvalue()


def test_a_table_keeps_brackets_and_emoji_codes_and_is_never_cut() -> None:
    long = "[bold]x [a-z]+ :smile: " + "word " * 60
    shown = _table_text(_result(long))
    assert "[bold]x [a-z]+ :smile: word" in shown and "a [bold]title" in shown
    assert long.strip() in "".join(shown.split("│"))  # one line, however long
    assert "12,345" in shown and "25.0%" in shown and " - " in shown


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_json_and_csv_give_back_the_values(text: str) -> None:
    emitter = Emitter(OutputFormat.json)
    emitter.add(_result(text))
    out = io.StringIO()
    emitter.finish(out)
    assert json.loads(out.getvalue())["sample"][0] == {"name": text, "rows": 12345, "share": 0.25}
    emitter = Emitter(OutputFormat.csv)
    emitter.add(_result(text))
    out = io.StringIO()
    emitter.finish(out)
    section = out.getvalue()
    assert section.startswith("# sample\r\nname,rows,share\r\n")
    rows = list(csv.DictReader(io.StringIO(section.split("\r\n", 1)[1], newline="")))
    assert rows[0] == {"name": neutralise_cell(text), "rows": "12345", "share": "0.25"}
    assert rows[1] == {"name": "none", "rows": "", "share": ""}


# OWASP's "CSV Injection": a cell starting with one of these is a formula to a spreadsheet
FORMULAS = ("=HYPERLINK(\"http://example.invalid\",\"open\")", "+1-1", "-2+3", "@SUM(A1:A9)",
            "\tx", "\rx")  # fmt: skip


def test_csv_neutralises_text_that_starts_as_a_formula_but_keeps_numbers() -> None:
    columns = (Column("reason"), Column("weight", form=".2f"))
    rows = [(formula, -2.5) for formula in FORMULAS] + [("PN0000001", -1)]
    emitter = Emitter(OutputFormat.csv)
    emitter.add(Result("hostile", "", columns, rows))
    out = io.StringIO()
    emitter.finish(out)
    read = list(csv.DictReader(io.StringIO(out.getvalue().split("\r\n", 1)[1], newline="")))
    assert [row["reason"] for row in read] == [*("'" + f for f in FORMULAS), "PN0000001"]
    assert [row["weight"] for row in read] == ["-2.5"] * len(FORMULAS) + ["-1"]
    emitter = Emitter(OutputFormat.json)  # JSON keeps every value as it is
    emitter.add(Result("hostile", "", columns, rows))
    out = io.StringIO()
    emitter.finish(out)
    assert [row["reason"] for row in json.loads(out.getvalue())["hostile"]][:-1] == list(FORMULAS)
