"""Results print as they are: no markup read, no cell cut to a terminal's width, and CSV and
JSON that a script reads back to the same values."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from casebridge.output import Column, Emitter, OutputFormat, Result

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
    assert rows[0] == {"name": text, "rows": "12345", "share": "0.25"}
    assert rows[1] == {"name": "none", "rows": "", "share": ""}
