"""The extracts honour the profile, and the truth matches what the extracts hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from casebridge.synth.profile import load_profile
from casebridge.synth.sources import SOURCES
from tests.synth.extracts import SOURCE_BY_KEY, data_lines, header, parse_line, read_source, truth

# per police source: (role column, suspect value, id column, ethnicity column)
SUSPECT_ETHNICITY = {
    "force_a": ("Role", "Suspect", "PersonRef", "SelfDefinedEthnicity"),
    "force_b": ("INV_TYPE", "SUS", "NOMINAL_NO", "IC_CODE"),
    "force_c": ("involvement", "suspect", "person_ref", "ethnicity"),
}
EVENT_ID = {"force_a": "CrimeRef", "force_b": "URN", "force_c": "incident_id", "la": "EpisodeID"}


@pytest.mark.parametrize("key", sorted(SUSPECT_ETHNICITY))
def test_suspect_ethnicity_missing_share_matches_the_profile(synth_out: Path, key: str) -> None:
    role, suspect, id_column, ethnicity = SUSPECT_ETHNICITY[key]
    suspects: dict[str, Any] = {}
    for _, row in read_source(synth_out, key):
        if row[role] == suspect and row[id_column]:
            suspects[row[id_column]] = row[ethnicity]
    missing = sum(1 for value in suspects.values() if not value) / len(suspects)
    profile = json.loads((synth_out / "manifest.json").read_text())["profile"]["name"]
    expected = load_profile(profile).noise.suspect_ethnicity_missing[key]
    assert len(suspects) > 300
    assert abs(missing - expected) <= 0.02, (key, missing, expected)


def test_every_planted_network_has_two_suspects_and_a_victim(synth_out: Path) -> None:
    members = truth(synth_out, "network_member")
    counts = members.group_by("network_id").agg(
        (pl.col("role") == "suspect").sum().alias("suspects"),
        (pl.col("role") == "victim").sum().alias("victims"),
    )
    assert counts.height == truth(synth_out, "network").height > 0
    assert counts["suspects"].min() >= 2  # type: ignore[operator]
    assert counts["victims"].min() >= 1  # type: ignore[operator]
    recorded = set(truth(synth_out, "record_person")["person_id"])
    assert set(members["person_id"]) <= recorded


def _references(out: Path) -> set[str]:
    """Every 'source:ref' that some accepted row of some extract holds."""
    refs: set[str] = set()
    for key, event_column in EVENT_ID.items():
        id_column = SOURCE_BY_KEY[key].local_id_field
        for _, row in read_source(out, key):
            refs.update({f"{key}:{row[event_column]}", f"{key}:{row[id_column]}"})
    for _, report in read_source(out, "dtr"):
        people = [report["reporter"], report["child"], *report["named_persons"]]
        refs.add(f"dtr:{report['submission_id']}")
        refs.update(f"dtr:{report['submission_id']}-{person['ref']}" for person in people)
    return refs


def test_every_review_target_is_reachable_from_the_extracts(synth_out: Path) -> None:
    targets = truth(synth_out, "review_target")
    refs = _references(synth_out)
    unreachable = [
        (target["target_id"], ref)
        for target in targets.iter_rows(named=True)
        for ref in target["evidence"]
        if ref not in refs
    ]
    assert unreachable == []
    assert set(targets["rule"]) == {f"R{n}" for n in range(1, 10)}


# how each extract writes a birth date it knows only the year of (force_b: as 1 January)
YEAR_ONLY_BIRTH = {
    "force_a": ("PersonRef", "DateOfBirth", r"[0-9]{4}"),
    "force_b": ("NOMINAL_NO", "DOB", r"01/01/[0-9]{4}"),
    "force_c": ("person_ref", "dob", r"[0-9]{4}"),
    "la": ("PersonID", "DateOfBirth", r"[0-9]{4}"),
}


def _year_only_records(out: Path) -> set[str]:
    """'source:local id' of every record an extract writes with the birth year alone."""
    refs = set()
    for key, (id_column, dob_column, written) in YEAR_ONLY_BIRTH.items():
        for _, row in read_source(out, key):
            if re.fullmatch(written, row[dob_column] or ""):
                refs.add(f"{key}:{row[id_column]}")
    for _, report in read_source(out, "dtr"):
        for person in [report["child"], *report["named_persons"]]:
            if re.fullmatch(r"[0-9]{4}", person.get("dob") or ""):
                refs.add(f"dtr:{report['submission_id']}-{person['ref']}")
    return refs


def test_targets_are_planted_whose_records_give_the_birth_year_only(synth_out: Path) -> None:
    targets = truth(synth_out, "review_target")
    flagged = targets.filter(pl.col("birth_year_only"))
    year_only = _year_only_records(synth_out)
    damaged = {f"{row['source']}:{row['local_id']}"
               for row in truth(synth_out, "malformed_row").iter_rows(named=True)}  # fmt: skip
    # the flag says a cited record gives the year alone, as the extract shows it (unless a bad
    # value was planted in its place)
    assert all(set(evidence) & (year_only | damaged) for evidence in flagged["evidence"])
    unflagged = targets.filter(~pl.col("birth_year_only"))["evidence"]
    assert not any(set(evidence) & year_only for evidence in unflagged)
    # a share of every planted person's records, so every kind of target has some
    assert set(flagged["rule"]) >= {"R1", "R2", "R3", "R4", "R7", "R8", "R9"}
    assert flagged.height >= 0.05 * targets.height


def test_adults_of_concern_are_planted_both_investigated_and_not(synth_out: Path) -> None:
    """R9's targets, and adults of concern whom a police crime names with the same child."""
    people = {f"{row['source']}:{row['local_id']}": row["person_id"]
              for row in truth(synth_out, "record_person").iter_rows(named=True)}  # fmt: skip
    concerns, children = set(), {}
    for _, row in read_source(synth_out, "la"):
        person = people.get(f"la:{row['PersonID']}")
        if person is None:  # a damaged row may have lost its id
            continue
        if row["PersonRole"] == "Child":
            children[row["EpisodeID"]] = person
        elif row["EpisodeType"] != "Missing Episode":
            concerns.add((row["EpisodeID"], person))
    police: dict[str, set[str]] = {}
    for key, (id_column, _, _) in list(YEAR_ONLY_BIRTH.items())[:3]:
        event_column = EVENT_ID[key]
        for _, row in read_source(synth_out, key):
            person = people.get(f"{key}:{row[id_column]}")
            if person:  # a damaged row may have lost its id
                police.setdefault(f"{key}:{row[event_column]}", set()).add(person)
    together = {frozenset(pair) for named in police.values() for pair in _pairs(named)}
    investigated = {(episode, adult) for episode, adult in concerns
                    if frozenset((adult, children.get(episode))) in together}  # fmt: skip
    targets = truth(synth_out, "review_target").filter(pl.col("rule") == "R9")
    named = set(zip(targets["event_ref"], targets["person_id"], strict=True))
    assert len(investigated) >= 20 and len(named) >= 20
    assert not named & investigated
    assert named <= concerns


def _pairs(people: set[str]) -> list[tuple[str, str]]:
    ordered = sorted(people)
    return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]


def test_every_record_in_the_extracts_belongs_to_a_true_person(synth_out: Path) -> None:
    known = {
        f"{s}:{i}"
        for s, i in truth(synth_out, "record_person").select("source", "local_id").iter_rows()
    }
    refs = _references(synth_out)
    person_refs = {ref for ref in refs if ref.split(":", 1)[0] != "dtr" or ref.count("-") == 3}
    id_refs = {
        f"{key}:{row[SOURCE_BY_KEY[key].local_id_field]}"
        for key in EVENT_ID
        for _, row in read_source(synth_out, key)
        if row[SOURCE_BY_KEY[key].local_id_field]
    }
    assert id_refs <= known
    assert {ref for ref in person_refs if ref.startswith("dtr:")} <= known


def test_quarantine_rows_are_broken_and_no_other_row_is(synth_out: Path) -> None:
    planted = truth(synth_out, "malformed_row").filter(pl.col("handling") == "quarantine")
    for source in SOURCES:
        expected = set(planted.filter(pl.col("source") == source.key)["row_number"])
        columns = header(synth_out, source) if source.file_format != "jsonl" else []
        id_at = columns.index(source.local_id_field) if columns else -1
        broken = set()
        for number, line in enumerate(data_lines(synth_out, source), start=1):
            row = parse_line(source, line, len(columns))
            local_id = None if row is None else row[source.local_id_field if id_at < 0 else id_at]  # type: ignore[index]
            if not local_id:
                broken.add(number)
        assert broken == expected, source.key
    kinds = set(planted["kind"])
    assert {"too_few_fields", "broken_quoting", "no_local_id", "unparseable"} <= kinds


def test_set_aside_values_are_where_the_truth_says(synth_out: Path) -> None:
    planted = truth(synth_out, "malformed_row").filter(pl.col("handling") == "set_aside")
    assert {"impossible_date", "unknown_code", "malformed_postcode"} <= set(planted["kind"])
    for key in planted["source"].unique():
        rows = dict(read_source(synth_out, key))
        for value in planted.filter(pl.col("source") == key).iter_rows(named=True):
            assert rows[value["row_number"]][value["field"]] == value["raw_value"]


def test_name_origin_group_is_in_the_truth_only(synth_out: Path) -> None:
    people = truth(synth_out, "person")
    assert people["name_origin_group"].null_count() == 0
    for source in SOURCES:
        text = (synth_out / "extracts" / source.file_name).read_bytes()
        assert b"name_origin" not in text
        assert b"white_british" not in text


def test_no_row_is_planted_both_to_quarantine_and_to_set_aside(synth_out: Path) -> None:
    planted = truth(synth_out, "malformed_row")
    both = planted.group_by("source", "row_number").agg(pl.col("handling").n_unique().alias("n"))
    assert both.filter(pl.col("n") > 1).height == 0


RAPE_CODES = {"19C", "19D", "19E", "19F", "19G", "19H"}


def test_downgrade_targets_are_what_the_extract_shows(synth_out: Path) -> None:
    """Every R1 target in force_a is penetrative and recorded below rape or closed uncharged."""
    targets = truth(synth_out, "review_target").filter(
        (pl.col("rule") == "R1") & (pl.col("source") == "force_a")
    )
    rows = {row["CrimeRef"]: row for _, row in read_source(synth_out, "force_a")}
    assert targets.height > 0
    for crime in targets["event_ref"]:
        row = rows[crime]
        assert row["Penetration"] == "Y", crime
        assert row["OffenceCode"] not in RAPE_CODES or row["OutcomeCode"] not in ("1", ""), crime
