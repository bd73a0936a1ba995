"""Read a synthetic extract set back the way an honest, strict reader would.

Tests use this to check the extracts themselves, not the generator's internals.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from casebridge.synth.sources import SOURCES, Source

SOURCE_BY_KEY = {source.key: source for source in SOURCES}


def data_lines(out: Path, source: Source) -> list[str]:
    """Return the file's data lines (header dropped for delimited files), in order."""
    text = (out / "extracts" / source.file_name).read_bytes().decode(source.encoding)
    newline = "\r\n" if source.encoding == "cp1252" else "\n"
    lines = [line for line in text.split(newline) if line != ""]
    return lines if source.file_format == "jsonl" else lines[1:]


def header(out: Path, source: Source) -> list[str]:
    """Return a delimited file's column names."""
    text = (out / "extracts" / source.file_name).read_bytes().decode(source.encoding)
    return next(csv.reader(io.StringIO(text.splitlines()[0]), delimiter=_delimiter(source)))


def _delimiter(source: Source) -> str:
    return "\t" if source.file_format == "tsv" else ","


def parse_line(source: Source, line: str, width: int) -> dict[str, Any] | list[str] | None:
    """Return the parsed row, or None where a strict reader must reject it as a row."""
    if source.file_format == "jsonl":
        try:
            value: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            return None
        return value
    try:
        fields = next(csv.reader([line], delimiter=_delimiter(source), strict=True))
    except csv.Error:
        return None
    return fields if len(fields) == width else None


def read_source(out: Path, key: str) -> list[tuple[int, dict[str, Any]]]:
    """Return (row number, row) for every row a strict reader accepts, rows keyed by column."""
    source = SOURCE_BY_KEY[key]
    columns = header(out, source) if source.file_format != "jsonl" else []
    rows = []
    for number, line in enumerate(data_lines(out, source), start=1):
        parsed = parse_line(source, line, len(columns))
        if parsed is None:
            continue
        rows.append(
            (
                number,
                parsed if isinstance(parsed, dict) else dict(zip(columns, parsed, strict=True)),
            )
        )
    return rows


def truth(out: Path, name: str) -> pl.DataFrame:
    """Return one truth table."""
    return pl.read_parquet(out / "truth" / f"{name}.parquet")
