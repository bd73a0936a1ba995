"""Ingest stores names written in any script folded to ASCII, and their raw values verbatim."""

from __future__ import annotations

from pathlib import Path

from casebridge.ingest.run import ingest_source
from tests.ingest.helpers import make_workspace
from tests.spark import untranspilable

MAPPING = """\
source: people
format: csv
persons:
  - local_id: ID
    forenames: Given
    surname: Family
    aliases: AKA
"""
# invented names, spelt as their languages write them (tests/standard/data names the standards)
EXTRACT = """\
ID,Given,Family,AKA
P1,Thị Lan,Nguyễn,Lan Trần
P2,Çağlar,Doğan,
P3,Олена,Коваленко,
P4,秀英,王,
P5,Jane,Smith,Jane Smyth
P6,Ευάγγελος,Παπαδόπουλος,
"""
EXPECTED = {
    "P1": ("thi", "lan", "nguyen", ["lan tran"]),
    "P2": ("caglar", None, "dogan", []),
    "P3": ("olena", None, "kovalenko", []),
    "P4": ("xiuying", None, "wang", []),
    "P5": ("jane", None, "smith", ["jane smyth"]),
    "P6": ("evangelos", None, "papadopoulos", []),
}


def test_names_are_stored_folded_and_their_raw_values_verbatim(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "w", {"people": ("p.csv", EXTRACT, MAPPING)})
    engine = workspace.connect()
    try:
        ingest_source(engine, workspace, workspace.source("people"))
        rows = engine.query(
            "SELECT local_id, forename, middle_names, surname, aliases, forenames_raw, "
            "surname_raw FROM person_record ORDER BY local_id"
        )
    finally:
        engine.close()
    stored = {row[0]: (row[1], row[2], row[3], list(row[4] or [])) for row in rows}
    assert stored == EXPECTED
    written = [line.split(",") for line in EXTRACT.splitlines()[1:]]
    assert {row[0]: (row[5], row[6]) for row in rows} == {w[0]: (w[1], w[2]) for w in written}
    assert untranspilable(engine.statements) == []
    assert any("cb_romanised" in statement for statement in engine.statements)


def test_an_all_ascii_extract_is_not_rewritten(tmp_path: Path) -> None:
    ascii_only = "ID,Given,Family,AKA\nP1,Jane,Smith,\n"
    workspace = make_workspace(tmp_path / "w", {"people": ("p.csv", ascii_only, MAPPING)})
    engine = workspace.connect()
    try:
        ingest_source(engine, workspace, workspace.source("people"))
        [(forename, surname)] = engine.query("SELECT forename, surname FROM person_record")
    finally:
        engine.close()
    assert (forename, surname) == ("jane", "smith")
    assert not any("cb_romanised" in statement for statement in engine.statements)
