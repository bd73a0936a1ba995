"""What a command prints as its result: a table for people, or CSV or JSON for scripts.

A command describes each result once, as a :class:`Result` (named columns and raw values), and
an :class:`Emitter` writes it in the format asked for with ``--format``:

- ``table`` (the default): a table, or the result's one-line sentence, for reading;
- ``csv``: each result as ``# NAME`` on a line of its own, then a header of column keys and
  the rows, results separated by a blank line (CRLF line ends, as RFC 4180 has them);
- ``json``: one object naming each result, whose value is a list of row objects.

Results go to standard output; progress bars, notes and errors go to standard error, so
``casebridge evaluate --format json > scores.json`` holds the scores and nothing else. Nothing
printed is read as terminal markup: a value such as ``[bold]x`` or ``[a-z]+`` prints as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

# a spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting as a formula gets a leading ``'``.

    >>> neutralise_cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> neutralise_cell("PN0000001")
    'PN0000001'
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class OutputFormat(enum.StrEnum):
    """How a command prints its results (``--format``)."""

    table = "table"
    csv = "csv"
    json = "json"


def plain_console(*, stderr: bool) -> Console:
    """A console that prints text as it is: no markup, no emoji codes, no highlighting."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


@dataclass(frozen=True)
class Column:
    """One column of a result: its key (CSV header, JSON name), its heading in a table and the
    format spec its values are shown with there (``","`` for counts, ``".4f"`` for scores)."""

    key: str
    heading: str = ""
    form: str = ""

    def shown(self, value: object) -> str:
        """The value as a table shows it: ``-`` for none, a number formatted with ``form``,
        anything else as text."""
        if value is None:
            return "-"
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return format(value, self.form) if self.form and is_number else str(value)


@dataclass(frozen=True)
class Result:
    """One result of a command: a title, columns and rows of raw values. ``sentence``, when
    set, is what the table format prints instead of a grid (a one-row summary reads better as
    a sentence)."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]
    sentence: str | None = None
    show_header: bool = True

    def as_table(self) -> Table:
        """The result as a rich table, numbers right-aligned."""
        table = Table(title=self.title or None, title_justify="left", show_header=self.show_header)
        for column in self.columns:
            table.add_column(
                column.heading or column.key, justify="right" if column.form else "left"
            )
        for row in self.rows:
            shown = (column.shown(value) for column, value in zip(self.columns, row, strict=True))
            table.add_row(*shown)
        return table

    def records(self) -> list[dict[str, object]]:
        """The rows as objects keyed by column, values as they are."""
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, (_plain(value) for value in row), strict=True)) for row in self.rows]


def _plain(value: object) -> object:
    """A value JSON and CSV can hold: numbers, text, true/false and null stay; paths and dates
    become text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path | dt.date):
        return str(value)
    return str(value)


@dataclass
class Emitter:
    """Writes a command's results in one format. The table format prints each result as it
    comes; CSV and JSON gather them and write one document at :meth:`finish`."""

    form: OutputFormat = OutputFormat.table
    console: Console = field(default_factory=lambda: plain_console(stderr=False))
    gathered: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> None:
        """Print ``result`` now (table) or keep it for :meth:`finish` (CSV, JSON)."""
        if self.form is not OutputFormat.table:
            self.gathered.append(result)
        elif result.sentence is not None:
            self.console.print(result.sentence, soft_wrap=True)
        else:
            self._print_table(result.as_table())

    def _print_table(self, table: Table) -> None:
        """At a terminal, to its width; into a file or a pipe, at the table's full width, so
        that no cell is cut or wrapped to an 80-column default."""
        if self.console.is_terminal:
            self.console.print(table)
            return
        wide = self.console.options.update_width(1 << 16)
        width = max(Measurement.get(self.console, wide, table).maximum, self.console.width)
        file = self.console.file
        Console(file=file, width=width, markup=False, emoji=False, highlight=False).print(table)

    def finish(self, stream: IO[str] | None = None) -> None:
        """Write the gathered results as one CSV or JSON document."""
        target = stream or sys.stdout
        if self.form is OutputFormat.json:
            document = {result.name: result.records() for result in self.gathered}
            target.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        elif self.form is OutputFormat.csv:
            target.write("\r\n".join(_csv_section(result) for result in self.gathered))
        self.gathered.clear()


def _csv_section(result: Result) -> str:
    buffer = io.StringIO()
    # CRLF line ends, as RFC 4180 has them: the writer then quotes a value holding either
    buffer.write(f"# {result.name}\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(column.key for column in result.columns)
    for record in result.records():
        writer.writerow(_csv_cell(value) for value in record.values())
    return buffer.getvalue()


def _csv_cell(value: object) -> object:
    """A value as a CSV cell: none is empty; text that a spreadsheet would take for a formula
    (a name or a reason from the data, written ``=HYPERLINK(...)``) is neutralised; numbers stay
    numbers (a negative weight is a number, not a formula)."""
    if value is None:
        return ""
    return neutralise_cell(value) if isinstance(value, str) else value
