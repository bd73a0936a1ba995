"""The audit's tables on a tiny hand-made workspace: who counts as known, what the bounds are,
what happens when stages have not run, and that nothing personal is published."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from casebridge.audit.demographics import published_nationalities
from casebridge.audit.disclosure import DisclosureSettings
from casebridge.audit.run import audit, build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import AuditError, UsageError
from casebridge.standard.datafiles import read_standard

from .helpers import SECRET_ADDRESS, SECRET_DOB, SECRET_NAMES, tiny_workspace

OPEN = AuditSettings()  # these tests read the exact tables


def _exact(engine: Engine, name: str, settings: AuditSettings = OPEN) -> pl.DataFrame:
    _, pairs = build_tables(engine, settings)
    return pairs[name][0]


def _row(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    rows = frame.filter(*(pl.col(k) == v for k, v in where.items()))
    assert rows.height == 1, (where, rows)
    return rows.row(0, named=True)


def test_a_person_is_known_when_any_linked_record_holds_the_value() -> None:
    frame = _exact(tiny_workspace(), "person_completeness")
    suspects = _row(frame, population="all records", role="suspect")
    # P1 (A2 and IC4 across two records), P2 (nothing), P3 (Asian only), P5 (not stated)
    assert suspects["persons"] == 4
    assert suspects["ethnicity_recorded"] == 2
    assert suspects["ethnicity_18plus1_recorded"] == 1
    assert suspects["ethnicity_officer_recorded"] == 1
    assert suspects["nationality_recorded"] == 2


def test_without_linkage_every_record_is_its_own_person() -> None:
    frame = _exact(tiny_workspace(linked=False), "person_completeness")
    assert _row(frame, population="all records", role="suspect")["persons"] == 5


def test_bounds_put_every_unknown_in_the_category_or_none() -> None:
    frame = _exact(tiny_workspace(), "demographics")
    a2 = _row(
        frame,
        population="all records",
        role="suspect",
        classification="ethnicity_18plus1",
        category="A2",
    )
    # 1 known A2 of 4; unknown: P2 and P5; P3 is Asian with no code, so could be A2 too
    assert (a2["persons"], a2["denominator"], a2["unknown"]) == (1, 4, 2)
    assert a2["share_lower"] == pytest.approx(1 / 4)
    assert a2["share_upper"] == pytest.approx(4 / 4)
    assert a2["share_of_known"] == pytest.approx(1 / 1)
    white = _row(
        frame,
        population="all records",
        role="suspect",
        classification="ethnicity_group",
        category="White",
    )
    assert (white["share_lower"], white["share_upper"]) == (0.0, pytest.approx(2 / 4))
    assert white["interval_lower"] == 0.0 and white["interval_upper"] > 2 / 4


def test_a_child_sexual_offence_is_a_sexual_crime_against_a_child() -> None:
    frame = _exact(tiny_workspace(), "person_completeness")
    assert _row(frame, population="child sexual offences", role="suspect")["persons"] == 2
    assert _row(frame, population="child sexual offences", role="victim")["persons"] == 1


def test_data_quality_tables_count_what_the_sources_hold() -> None:
    engine = tiny_workspace()
    completeness = _exact(engine, "completeness")
    row = _row(completeness, source="a", field="suspect ethnicity", year="all")
    assert (row["rows"], row["filled"]) == (3, 1)  # a:1 (A2), a:2 (none), a:4 (not stated)
    dates = _exact(engine, "date_checks")
    assert _row(dates, source="c", check="event before 1950-01-01")["rows"] == 1
    quarantine = _exact(engine, "quarantine")
    assert _row(quarantine, source="a", reason="too few fields")["rows"] == 1
    compliance = _exact(engine, "compliance")
    row = _row(compliance, source="a", offences="child sexual offences", year="all")
    assert (row["suspects"], row["ethnicity_recorded"], row["nationality_recorded"]) == (2, 1, 1)


def test_networks_and_screening_say_not_run_then_summarise_when_present(tmp_path: Path) -> None:
    engine = tiny_workspace()
    summary = audit(engine, OPEN, tmp_path / "out")
    assert not summary.stages.networks and not summary.stages.screening
    assert summary.tables["network_profile"] == 0
    engine.execute(
        "CREATE TABLE network AS SELECT 'N1' AS network_id, 2 AS suspects, 1 AS victims, "
        "1 AS events, 2 AS sources, 2 AS forces, DATE '2019-01-01' AS first_date, "
        "DATE '2020-06-01' AS last_date, ['P1'] AS central_suspects"
    )
    engine.execute(
        "CREATE TABLE network_member AS SELECT * FROM (VALUES ('N1', 'P1', 'suspect', 1, 1.0), "
        "('N1', 'P2', 'suspect', 1, 0.5), ('N1', 'P4', 'victim', 1, 0.5)) "
        "t(network_id, person_id, role, events, centrality)"
    )
    engine.execute(
        "CREATE TABLE review_item AS SELECT * FROM (VALUES ('event:a:E1', ['R1', 'R7'], 6.0), "
        "('person:P2', ['R7'], 1.0)) t(item_id, rules, priority)"
    )
    summary = audit(engine, OPEN, tmp_path / "out")
    assert summary.stages.networks and summary.stages.screening
    profile = engine.frame("SELECT * FROM audit_network_profile")
    assert _row(profile, dimension="time span", band="1-2 years")["networks"] == 1
    rules = engine.frame("SELECT * FROM audit_review_by_rule")
    assert dict(rules.iter_rows()) == {"R1": 1, "R7": 2}
    people = engine.frame("SELECT * FROM audit_person_completeness")
    assert _row(people, population="group-based networks", role="suspect")["persons"] == 2


def test_published_tables_are_exported_and_hold_nothing_personal(tmp_path: Path) -> None:
    engine = tiny_workspace()
    audit(engine, AuditSettings(), tmp_path / "out")
    exported = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "demographics.csv" in exported and "demographics.parquet" in exported
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.csv"))
    for secret in (*SECRET_NAMES, SECRET_DOB, SECRET_ADDRESS):
        assert secret not in text
    # every person count published is 0, suppressed, or at least the threshold
    published = engine.frame("SELECT persons FROM audit_demographics_published")["persons"]
    assert all(v is None or v == 0 or v >= 10 for v in published.to_list())


def test_a_population_baseline_is_compared_with_its_uncertainty(tmp_path: Path) -> None:
    baseline = tmp_path / "census.csv"
    baseline.write_text(
        "# area population\nethnicity,population\nW1,800\nA2,150\nB2,50\n", encoding="utf-8"
    )
    settings = OPEN.model_copy(update={"population_baseline": baseline})
    frame = _exact(tiny_workspace(), "baseline_comparison", settings)
    a2 = _row(
        frame,
        population="all records",
        role="suspect",
        classification="ethnicity_18plus1",
        category="A2",
    )
    assert a2["baseline_share"] == pytest.approx(0.15)
    assert a2["reading"] == "cannot tell from these data"
    asian = _row(
        frame,
        population="all records",
        role="suspect",
        classification="ethnicity_group",
        category="Asian",
    )
    assert asian["baseline_share"] == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ethnicity,people\nW1,5\n", "header"),
        ("ethnicity,population\nZ9,5\n", "line 2: 'Z9'"),
        ("ethnicity,population\nW1,many\n", "not a whole number"),
    ],
)
def test_a_bad_baseline_is_reported_with_its_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    baseline = tmp_path / "census.csv"
    baseline.write_text(text, encoding="utf-8")
    with pytest.raises(AuditError, match=message):
        build_tables(tiny_workspace(), OPEN.model_copy(update={"population_baseline": baseline}))


def test_an_empty_workspace_asks_for_ingest() -> None:
    with pytest.raises(UsageError, match="casebridge ingest"):
        build_tables(Engine(), OPEN)


def test_the_docs_name_every_setting_and_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    for name in AuditSettings.model_fields:
        if name != "disclosure":
            assert f"`{name}" in docs, name
    for name in DisclosureSettings.model_fields:
        assert f"`disclosure.{name}`" in docs, name
    _, pairs = build_tables(tiny_workspace(), OPEN)
    for table in pairs:
        assert f"`{table}`" in docs, table


# the police 18+1 self-defined codes and the officer-defined IC codes (College of Policing;
# ONS 2011 Census groups), written out here rather than taken from casebridge's own lists
CODES_18_PLUS_1 = (
    "W1 W2 W3 W9 M1 M2 M3 M9 A1 A2 A3 A4 A9 B1 B2 B9 O2 O9".split()
)  # fmt: skip
IC_CODES = ("IC1", "IC2", "IC3", "IC4", "IC5", "IC6")


def test_every_category_is_listed_whatever_the_data_holds() -> None:
    frame = _exact(tiny_workspace(), "demographics")
    listed = published_nationalities()
    countries = {row["iso3"] for row in read_standard("countries", ("iso3", "iso2", "name",
                                                                    "demonym"))}  # fmt: skip
    assert listed[0] == "GBR" and set(listed) <= countries and len(set(listed)) == len(listed)
    for (population, role), block in frame.group_by("population", "role"):
        rows = {
            c: set(block.filter(pl.col("classification") == c)["category"])
            for c in ("ethnicity_18plus1", "ethnicity_officer", "nationality")
        }
        assert {k for k in rows["ethnicity_18plus1"] if ":" not in k} == set(CODES_18_PLUS_1)
        assert rows["ethnicity_officer"] == {*IC_CODES, "unknown"}
        assert rows["nationality"] == {*listed, "other", "not GBR", "unknown"}, (population, role)


def test_a_subtotal_carries_its_unknowns_in_its_bounds() -> None:
    frame = _exact(tiny_workspace(), "demographics")
    row = _row(frame, population="all records", role="suspect", category="not GBR")
    # P3 is Pakistani, P1 British; P2 and P5 have no nationality: either could be not British
    assert (row["persons"], row["denominator"], row["unknown"]) == (1, 4, 2)
    assert (row["share_lower"], row["share_upper"]) == (pytest.approx(1 / 4), pytest.approx(3 / 4))


def test_compulsory_fields_count_each_source_row_not_the_record() -> None:
    engine = tiny_workspace()
    # a second crime names a:1 again, on a row that leaves ethnicity and nationality blank
    engine.execute(
        "INSERT INTO event (event_id, source, local_id, kind, event_date, is_sexual) "
        "VALUES ('a:E2', 'a', 'E2', 'crime', DATE '2021-03-01', false)"
    )
    engine.execute(
        "INSERT INTO involvement (source, event_id, record_id, file_name, row_number, role) "
        "VALUES ('a', 'a:E2', 'a:1', 'a.csv', 40, 'suspect')"
    )
    engine.execute(
        "INSERT INTO person_observation (source, file_name, row_number, block, record_id, "
        "local_id, event_id, role) VALUES ('a', 'a.csv', 40, 1, 'a:1', '1', 'a:E2', 'suspect')"
    )
    completeness = _exact(engine, "completeness")
    row = _row(completeness, source="a", field="suspect ethnicity", year="all")
    # rows: a:1 twice (once with A2, once blank), a:2 (nothing), a:4 (not stated)
    assert (row["counted"], row["rows"], row["filled"]) == ("rows naming a suspect", 4, 1)
    persons = _row(_exact(engine, "person_completeness"), population="all records", role="suspect")
    assert (persons["counted"], persons["ethnicity_recorded"]) == ("persons", 2)


def test_values_set_aside_are_told_from_values_kept_and_found_per_field() -> None:
    engine = tiny_workspace()
    engine.execute(
        "INSERT INTO finding VALUES ('a', 'a.csv', 2, 'E1', 'offence', 'Offence', 'XX9', "
        "'unknown_code'), ('a', 'a.csv', 4, '2', 'date_of_birth', 'DOB', '1980-01-01', "
        "'conflicting_value')"
    )
    quarantine = _exact(engine, "quarantine")
    assert _row(quarantine, source="a", reason="offence: unknown_code")["what"] == (
        "value set aside"
    )
    assert _row(quarantine, source="a", reason="date_of_birth: conflicting_value")["what"] == (
        "value noted (kept)"
    )
    conformance = _exact(engine, "conformance")
    assert _row(conformance, source="a", field="offence_code")["set_aside"] == 1


def test_settings_that_cannot_protect_a_publication_are_refused() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 2"):
        DisclosureSettings(threshold=0)
    with pytest.raises(ValidationError, match="no longer a setting"):
        DisclosureSettings.model_validate({"secondary": False})
