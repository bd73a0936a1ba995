"""Issue 12's first bar: extracts of agencies casebridge's generator never wrote keep every value.

The corpus under ``tests/ingest/corpus/`` holds a police crime extract (one row per person
involved), a school's absence workbook with title rows, an NHS trust's safeguarding referrals as
nested JSON Lines and a social-care export in cp1252, written by hand from published standards
(Home Office offence and outcome codes, NPCC 18+1 and IC codes, ONS census 2001/2011/2021 and
DfE ethnicity labels, NHS Data Dictionary ethnic categories, DfE UPNs, NHS test numbers), with
names of many origins and scripts, all invented. ``corpus_rows`` re-reads every file without
casebridge; these tests check the workspace against that reading, cell by cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from casebridge.ingest.run import ingest
from casebridge.workspace import init_workspace, open_workspace
from tests.ingest.corpus_rows import (
    CORPUS,
    EVENT_FIELDS,
    PERSON_FIELDS,
    CorpusSource,
    Observation,
    build_workspace_files,
    corpus_sources,
    data_rows,
    event_observations,
    person_observations,
    planted_quarantine,
)
from tests.ingest.helpers import query_rows

SOURCES = corpus_sources()
PLANTED = planted_quarantine()
# person_record's raw columns, by the mapping field they keep the first value of
RECORD_RAW = {
    "full_name": "full_name_raw",
    "forenames": "forenames_raw",
    "surname": "surname_raw",
    "date_of_birth": "dob_raw",
    "sex": "sex_raw",
    "ethnicity_self": "ethnicity_self_raw",
    "ethnicity_officer": "ethnicity_officer_raw",
    "nationality": "nationality_raw",
    "postcode": "postcode_raw",
    "address": "address",
    "phone": "phone_raw",
}


def _by_key(source: CorpusSource) -> str:
    return source.key


def _rows(root: Path, query: str) -> list[tuple[Any, ...]]:
    """The rows a query gives on the corpus workspace."""
    return query_rows(root, query)


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the whole corpus, ingested."""
    root = tmp_path_factory.mktemp("corpus") / "workspace"
    init_workspace(root)
    build_workspace_files(root)
    ingest(open_workspace(root))
    return root


def _planted_rows(source: CorpusSource) -> set[int]:
    return {p.row_number for p in PLANTED if p.source == source.key}


def _people(source: CorpusSource) -> list[Observation]:
    return person_observations(source, _planted_rows(source))


def _mismatches(
    source: CorpusSource, expected: dict[Any, Observation], got: dict[Any, dict[str, Any]]
) -> list[str]:
    """Every cell whose raw value in the workspace differs from the file's, by row and field."""
    wrong = []
    for key, observation in expected.items():
        for name, value in observation.raw.items():
            if got[key][name] != value:
                wrong.append(
                    f"row {observation.row_number}, {name}: {got[key][name]!r} != {value!r}"
                )
    return wrong


# --- counts and quarantine --------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_rows_read_are_rows_loaded_plus_rows_quarantined(
    corpus_root: Path, source: CorpusSource
) -> None:
    read = len(data_rows(source))
    planted = len(_planted_rows(source))
    assert planted > 0
    counts = _rows(
        corpus_root,
        "SELECT file_name, rows_read, rows_loaded, rows_quarantined FROM source "
        f"WHERE source = '{source.key}'",
    )
    assert counts == [(source.file_name, read, read - planted, planted)]
    [(quarantined,)] = _rows(
        corpus_root, f"SELECT count(*) FROM quarantine WHERE source = '{source.key}'"
    )
    assert quarantined == planted


def test_the_quarantined_rows_are_exactly_those_planted(corpus_root: Path) -> None:
    rows = _rows(corpus_root, "SELECT source, file_name, row_number, reasons FROM quarantine")
    got = {(s, f, n): " ".join(reasons) for s, f, n, reasons in rows}
    assert set(got) == {(p.source, p.file_name, p.row_number) for p in PLANTED}
    for planted in PLANTED:
        assert planted.reason in got[(planted.source, planted.file_name, planted.row_number)]


def test_a_quarantined_police_row_is_kept_as_the_file_holds_it(corpus_root: Path) -> None:
    lines = (CORPUS / "extracts" / "police_crime.csv").read_text(encoding="utf-8").splitlines()
    rows = _rows(corpus_root, "SELECT row_number, raw_row FROM quarantine WHERE source = 'police'")
    assert rows and all(raw == lines[number] for number, raw in rows)


# --- one record per id, every row's values ----------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_an_id_on_several_rows_is_one_person_record(
    corpus_root: Path, source: CorpusSource
) -> None:
    rows_per_id = Counter(o.local_id for o in _people(source))
    assert max(rows_per_id.values()) > 1  # the corpus repeats ids in every source
    records = _rows(
        corpus_root,
        f"SELECT local_id, count(*) FROM person_record WHERE source = '{source.key}' "
        "GROUP BY local_id",
    )
    assert dict(records) == dict.fromkeys(rows_per_id, 1)


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_an_event_id_on_several_rows_is_one_event(corpus_root: Path, source: CorpusSource) -> None:
    events = Counter(o.local_id for o in event_observations(source, _planted_rows(source)))
    got = _rows(
        corpus_root,
        f"SELECT local_id, count(*) FROM event WHERE source = '{source.key}' GROUP BY local_id",
    )
    assert dict(got) == dict.fromkeys(events, 1)


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_every_row_s_role_reads_back_from_its_involvement(
    corpus_root: Path, source: CorpusSource
) -> None:
    expected = {
        (f"{source.key}:{o.event_local_id}", f"{source.key}:{o.local_id}"): (
            o.row_number, o.raw["role"],
        )
        for o in _people(source)
    }  # fmt: skip
    rows = _rows(
        corpus_root,
        "SELECT event_id, record_id, row_number, role_raw FROM involvement "
        f"WHERE source = '{source.key}'",
    )
    assert {(e, r): (n, role) for e, r, n, role in rows} == expected


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_a_person_on_one_row_reads_back_from_person_record(
    corpus_root: Path, source: CorpusSource
) -> None:
    people = _people(source)
    once = {o.local_id: o for o in people if Counter(p.local_id for p in people)[o.local_id] == 1}
    assert once
    columns = ", ".join(RECORD_RAW.values())
    rows = _rows(
        corpus_root,
        f"SELECT local_id, first_row, {columns} FROM person_record WHERE source = '{source.key}'",
    )
    got = {
        row[0]: {"first_row": row[1], **dict(zip(RECORD_RAW, row[2:], strict=True))} for row in rows
    }
    wrong = []
    for local_id, observation in once.items():
        assert got[local_id]["first_row"] == observation.row_number
        for name, value in observation.raw.items():
            if name in RECORD_RAW:
                if got[local_id][name] != value:
                    wrong.append(f"row {observation.row_number}, {name}: {got[local_id][name]!r}")
    assert wrong == []


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_every_person_value_of_every_loaded_row_reads_back(
    corpus_root: Path, source: CorpusSource
) -> None:
    columns = ", ".join(f"o.{name}_raw" for name in PERSON_FIELDS)
    rows = _rows(
        corpus_root,
        f"SELECT o.row_number, o.block, o.local_id, o.file_name, r.local_id, e.local_id, {columns} "
        "FROM person_observation o LEFT JOIN person_record r ON r.record_id = o.record_id "
        f"LEFT JOIN event e ON e.event_id = o.event_id WHERE o.source = '{source.key}'",
    )
    expected = {(o.row_number, o.block, o.local_id): o for o in _people(source)}
    got = {row[:3]: dict(zip(PERSON_FIELDS, row[6:], strict=True)) for row in rows}
    assert len(rows) == len(got)  # one observation per person per row
    assert set(got) == set(expected)
    for row in rows:
        observation = expected[row[:3]]
        # the row's file, the person's record and the row's event
        assert row[3:6] == (source.file_name, observation.local_id, observation.event_local_id)
    assert _mismatches(source, expected, got) == []


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_every_event_value_of_every_loaded_row_reads_back(
    corpus_root: Path, source: CorpusSource
) -> None:
    columns = ", ".join(f"o.{name}_raw" for name in EVENT_FIELDS)
    rows = _rows(
        corpus_root,
        f"SELECT o.row_number, o.local_id, o.file_name, e.local_id, {columns} "
        "FROM event_observation o LEFT JOIN event e ON e.event_id = o.event_id "
        f"WHERE o.source = '{source.key}'",
    )
    expected = {o.row_number: o for o in event_observations(source, _planted_rows(source))}
    got = {row[0]: dict(zip(EVENT_FIELDS, row[4:], strict=True)) for row in rows}
    assert len(rows) == len(got)  # one observation per row
    assert set(got) == set(expected)
    for row in rows:
        observation = expected[row[0]]
        assert row[1:4] == (observation.local_id, source.file_name, observation.local_id)
    assert _mismatches(source, expected, got) == []


# --- codes the shipped lists lack -------------------------------------------------------------


def test_unknown_offence_codes_are_set_aside_as_findings_with_their_raw_value(
    corpus_root: Path,
) -> None:
    police = next(s for s in SOURCES if s.key == "police")
    unknown = {"195", "3B", "13", "56/1"}  # local and sub-codes, not in the Home Office list
    expected = {
        (o.row_number, o.raw["offence"])
        for o in event_observations(police, _planted_rows(police))
        if o.raw["offence"] in unknown
    }
    findings = _rows(
        corpus_root,
        "SELECT row_number, raw_value FROM finding "
        "WHERE source = 'police' AND field = 'offence' AND problem = 'unknown_code'",
    )
    assert set(findings) == expected and len(expected) == 8
    kept = _rows(corpus_root, "SELECT DISTINCT offence_raw FROM event WHERE source = 'police'")
    assert unknown <= {raw for (raw,) in kept}


# --- rows of one id that disagree ------------------------------------------------------------


def _full_birth_date(text: str | None, formats: list[str]) -> dt.date | None:
    """A birth date read with the mapping's formats as Python reads them, if it gives a day."""
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(text or "", fmt)
        except ValueError:
            continue
        return parsed.date() if "%d" in fmt else None
    return None


def _birth_dates(source: CorpusSource) -> dict[str, list[tuple[int, dt.date]]]:
    """Each person's full birth dates, row by row, leaving out the cells misread today."""
    dates: dict[str, list[tuple[int, dt.date]]] = {}
    for o in _people(source):
        spec = source.mapping["persons"][o.block - 1].get("date_of_birth")
        if not isinstance(spec, dict):
            continue
        date = _full_birth_date(o.raw["date_of_birth"], spec["formats"])
        if date is not None and o.local_id is not None:
            dates.setdefault(o.local_id, []).append((o.row_number, date))
    return dates


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_every_birth_date_of_an_id_s_rows_is_kept_and_each_conflict_is_a_finding(
    corpus_root: Path, source: CorpusSource
) -> None:
    dates = _birth_dates(source)
    records = _rows(
        corpus_root,
        f"SELECT local_id, dates_of_birth FROM person_record WHERE source = '{source.key}' "
        "AND dates_of_birth IS NOT NULL AND len(dates_of_birth) > 0",
    )
    assert {i: set(d) for i, d in records} == {i: {d for _, d in rows} for i, rows in dates.items()}
    conflicts = _rows(
        corpus_root,
        f"SELECT row_number, local_id FROM finding WHERE source = '{source.key}' "
        "AND field = 'date_of_birth' AND problem = 'conflicting_value'",
    )
    expected = {(n, i) for i, rows in dates.items() for n, date in rows if date != rows[0][1]}
    # a birth year alone may be noted too (test_a_birth_year_alone_is_no_conflict)
    assert set(conflicts) >= expected
    assert {n for n, _ in conflicts} - {n for n, _ in expected} <= _year_only_rows(source)
    assert source.key not in ("police", "social_care") or expected  # the corpus plants some


def _uk_postcode(text: str | None) -> str | None:
    """A full UK postcode as Royal Mail writes it (outward code, space, inward code), if any."""
    squashed = re.sub(r"\s+", "", text or "").upper()
    if not re.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}", squashed):
        return None
    return f"{squashed[:-3]} {squashed[-3:]}"


@pytest.mark.parametrize("source", SOURCES, ids=_by_key)
def test_every_postcode_of_an_id_s_rows_is_kept_for_the_linker(
    corpus_root: Path, source: CorpusSource
) -> None:
    postcodes: dict[str, set[str]] = {}
    for o in _people(source):
        postcode = _uk_postcode(o.raw["postcode"])
        if postcode is not None and o.local_id is not None:
            postcodes.setdefault(o.local_id, set()).add(postcode)
    records = _rows(
        corpus_root,
        f"SELECT local_id, postcodes FROM person_record WHERE source = '{source.key}' "
        "AND postcodes IS NOT NULL AND len(postcodes) > 0",
    )
    assert {i: set(p) for i, p in records} == postcodes
    assert source.key != "police" or max(len(p) for p in postcodes.values()) > 1


def _year_only_rows(source: CorpusSource) -> set[int]:
    return {o.row_number for o in _people(source) if len(o.raw["date_of_birth"] or "") == 4}


def test_a_birth_year_alone_is_no_conflict(corpus_root: Path) -> None:
    police = next(s for s in SOURCES if s.key == "police")
    [row] = _year_only_rows(police)
    conflicts = _rows(
        corpus_root,
        f"SELECT count(*) FROM finding WHERE source = 'police' AND row_number = {row} "
        "AND field = 'date_of_birth' AND problem = 'conflicting_value'",
    )
    assert conflicts == [(0,)]


# --- values casebridge once misread (issue 12) --------------------------------------------------


def _observed(
    root: Path, source: str, columns: str, table: str = "person_observation"
) -> dict[int, tuple[Any, ...]]:
    """Chosen columns of a source's observations, by row (the first block's, for persons)."""
    block = " AND block = 1" if table == "person_observation" else ""
    rows = _rows(
        root, f"SELECT row_number, {columns} FROM {table} WHERE source = '{source}'{block}"
    )
    return {row[0]: row[1:] for row in rows}


def test_date_cells_of_a_mixed_workbook_column_read_as_iso_dates(corpus_root: Path) -> None:
    education = next(s for s in SOURCES if s.key == "education")
    people = {o.row_number: o for o in _people(education)}
    formats = education.mapping["persons"][0]["date_of_birth"]["formats"]
    assert _observed(corpus_root, "education", "date_of_birth_raw, date_of_birth") == {
        n: (o.raw["date_of_birth"], _full_birth_date(o.raw["date_of_birth"], formats))
        for n, o in people.items()
    }
    events = {
        o.row_number: o.raw["date"] for o in event_observations(education, _planted_rows(education))
    }
    observed = _observed(corpus_root, "education", "date_raw", "event_observation")
    assert {n: raw for n, (raw,) in observed.items()} == events
    dates = "source = 'education' AND field IN ('date_of_birth', 'event_date')"
    assert _rows(corpus_root, f"SELECT count(*) FROM finding WHERE {dates}") == [(0,)]


def test_a_crlf_inside_a_quoted_field_is_kept(corpus_root: Path) -> None:
    social_care = next(s for s in SOURCES if s.key == "social_care")
    [address] = [o.raw["address"] for o in _people(social_care) if o.row_number == 7]
    assert address is not None and "\r\n" in address
    assert _observed(corpus_root, "social_care", "address_raw")[7] == (address,)


def test_a_published_sex_code_is_read_and_an_unknown_sex_word_is_a_finding(
    corpus_root: Path,
) -> None:
    police = next(s for s in SOURCES if s.key == "police")
    rows = {o.raw["sex"]: o.row_number for o in _people(police)}
    # 9: 'not specified' in ISO/IEC 5218 and the NHS Data Dictionary's person gender code
    assert _observed(corpus_root, "police", "sex")[rows["9"]] == ("U",)
    # a name in the sex column (the columns of that row were shifted when it was typed)
    assert _observed(corpus_root, "police", "sex")[rows["Ayesha"]] == (None,)
    found = _rows(
        corpus_root,
        f"SELECT count(*) FROM finding WHERE source = 'police' AND row_number = {rows['Ayesha']} "
        "AND field = 'sex' AND problem <> 'conflicting_value'",
    )
    assert found == [(1,)]


def _expected_file(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("# ")))


def test_ethnicity_wordings_of_published_label_sets_give_their_18plus1_code(
    corpus_root: Path,
) -> None:
    codes = {row["value"]: row["code"] for row in _expected_file("ethnicity_expected.csv")}
    rows = _rows(
        corpus_root,
        "SELECT DISTINCT ethnicity_self_raw, ethnicity_self FROM person_observation "
        "WHERE ethnicity_self_raw IS NOT NULL",
    )
    got = {raw: code for raw, code in rows if raw in codes}
    assert set(got) == set(codes)  # every wording of the file is on some loaded row
    assert got == codes


def test_names_of_many_origins_and_scripts_fold_as_a_speaker_would_expect(
    corpus_root: Path,
) -> None:
    expected = _expected_file("names_expected.csv")
    assert len({row["origin"].split(" (")[0] for row in expected}) >= 15
    rows = _rows(
        corpus_root,
        "SELECT source, row_number, local_id, surname, forename FROM person_observation",
    )
    got = {(s, str(n), i): (surname, forename) for s, n, i, surname, forename in rows}
    wrong = []
    for row in expected:
        names = got[(row["source"], row["row_number"], row["local_id"])]
        for want, have in zip((row["surname"], row["forename"]), names, strict=True):
            plain = isinstance(have, str) and re.fullmatch(r"[a-z]+( [a-z]+)*", have)
            if (want == "*" and not plain) or (want not in ("", "*") and have != want):
                wrong.append(f"{row['source']} row {row['row_number']} ({row['origin']}): {have!r}")
    assert wrong == []
