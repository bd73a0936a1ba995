"""A model a workspace shapes: sources free of duplicates, comparisons and blocking rules
dropped or added from the menu, weights set on identifiers and locations, a frozen model.

Hand-written extracts: a GP register (which holds each patient once) and a police extract.
The NHS numbers pass the NHS Data Dictionary's modulus 11 check; the names are invented. The
register's G1 and G2 are one planted pair that looks like a duplicate.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.engine import Engine
from casebridge.errors import UsageError, WorkspaceError
from casebridge.ingest.run import ingest
from casebridge.link.choices import DEDUPE_CONDITION, ModelChoices
from casebridge.link.judgements import record_judgement
from casebridge.link.model import blocking_rule_sql, comparisons_per_rule, with_groups
from casebridge.link.prepare import LINK_INPUT, held_fields, prepare_link_input
from casebridge.link.run import MODEL_FILE, link
from casebridge.link.saved import CHOICES_FILE, freeze_model
from casebridge.link.train import _comparable_share
from casebridge.workspace import SETTINGS_FILE, open_workspace
from tests.ingest.helpers import make_workspace
from tests.link.helpers import blocked

runner = CliRunner()
REGISTER = """\
source: gp
format: csv
persons:
  - local_id: id
    forenames: forename
    surname: surname
    date_of_birth: {column: dob, formats: ["%d/%m/%Y"]}
    sex: sex
    postcode: postcode
    identifiers:
      - {scheme: nhs_number, column: nhs}
"""
REGISTER_ROWS = """\
id,forename,surname,dob,sex,postcode,nhs
G1,Orla,Brennick,14/03/2011,F,LS6 2QT,
G2,Orla,Brennick,14/03/2011,F,LS6 2QT,
G3,Tomasz,Wielgat,02/11/2010,M,LS7 1AB,401 023 4563
G4,Ifeoma,Nwankwoala,23/07/2012,F,LS8 4JD,401 023 4571
G5,Callum,Hargreave,30/01/2009,M,LS9 8PX,401 023 4598
G6,Yusra,Qadeer,09/09/2011,F,LS11 5EE,401 023 4628
"""
POLICE = REGISTER.replace("source: gp", "source: police")
# P8 has G1's names and another birth date, 32 years before, and no postcode; P9 has G4's NHS
# number and nothing else of hers
POLICE_ROWS = """\
id,forename,surname,dob,sex,postcode,nhs
P1,Orla,Brennick,14/03/2011,F,LS6 2QT,
P2,Tomasz,Wielgat,02/11/2010,M,LS7 1AB,401 023 4563
P3,Tomas,Wielgat,02/11/2010,M,LS7 1AB,
P4,Ifeoma,Nwankwoala,23/07/2012,F,,401 023 4571
P5,Calum,Hargreaves,30/01/2009,M,LS9 8PX,
P6,Yusra,Qadir,09/09/2011,F,LS11 5EE,
P7,Dariusz,Kowalczyk,17/05/1984,M,LS6 3RN,
P8,Orla,Brennick,02/06/1979,F,,
P9,Adaeze,Okonkwo,11/02/1990,F,,401 023 4571
"""
PLANTED = ("gp:G1", "gp:G2")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shaping") / "ws"
    sources = {"gp": ("gp.csv", REGISTER_ROWS, REGISTER),
               "police": ("police.csv", POLICE_ROWS, POLICE)}  # fmt: skip
    ingest(make_workspace(root, sources))
    return root


@pytest.fixture(scope="module")
def linked(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace linked with the shipped model."""
    root = shutil.copytree(ingested, tmp_path_factory.mktemp("linked") / "ws")
    link(open_workspace(root))
    return root


def _copy(
    root: Path, tmp_path: Path, link_settings: str = "", duplicate_free: bool = False
) -> Path:
    """A copy of ``root`` with ``link_settings`` as its [link] table, and the GP register
    declared free of duplicates if asked."""
    copy = shutil.copytree(root, tmp_path / "ws")
    settings = (copy / SETTINGS_FILE).read_text(encoding="utf-8")
    if duplicate_free:
        settings = settings.replace('key = "gp"', 'key = "gp"\ndedupe = false')
    (copy / SETTINGS_FILE).write_text(f"{settings}\n[link]\n{link_settings}\n", encoding="utf-8")
    return copy


def _query(root: Path, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    engine = Engine(root / "casebridge.duckdb")
    try:
        return engine.query(sql, params)
    finally:
        engine.close()


def _pairs(root: Path) -> set[tuple[str, str]]:
    rows = _query(root, "SELECT least(record_l, record_r), greatest(record_l, record_r) "
                        "FROM match_pair")  # fmt: skip
    return {(str(left), str(right)) for left, right in rows}


def _person(root: Path, record: str) -> str:
    return str(
        _query(root, "SELECT person_id FROM person_link WHERE record_id = ?", [record])[0][0]
    )


def _model(root: Path) -> dict[str, Any]:
    model: dict[str, Any] = json.loads((root / MODEL_FILE).read_text(encoding="utf-8"))
    return model


def _mark(path: Path) -> bytes:
    """Give the saved (or frozen) model at ``path`` a prior no training here gives, so that a
    test can tell it was used as it is; return its bytes."""
    model = json.loads(path.read_text(encoding="utf-8"))
    model["probability_two_random_records_match"] = 0.0123
    path.write_text(json.dumps(model), encoding="utf-8")
    return path.read_bytes()


def _weights(model: dict[str, Any], comparison: str) -> list[float]:
    """The match weights of a comparison's levels, null level left out, strongest first."""
    (chosen,) = [c for c in model["comparisons"] if c["output_column_name"] == comparison]
    return [
        math.log2(level["m_probability"] / level["u_probability"])
        for level in chosen["comparison_levels"]
        if not level.get("is_null_level")
    ]


# --- link types: a source free of duplicates ----------------------------------------------------


def test_by_default_a_pair_within_a_source_is_scored(linked: Path) -> None:
    assert PLANTED in _pairs(linked)
    assert _person(linked, "gp:G1") == _person(linked, "gp:G2")


def test_a_source_free_of_duplicates_has_no_pair_of_its_own_scored(
    linked: Path, tmp_path: Path
) -> None:
    # a model saved before sources could be declared so (no record of its settings) still
    # loads, is not retrained, and gains the condition
    root = _copy(linked, tmp_path, duplicate_free=True)
    (root / CHOICES_FILE).unlink()
    before = _mark(root / MODEL_FILE)
    link(open_workspace(root))
    assert (root / MODEL_FILE).read_bytes() == before
    pairs = _pairs(root)
    assert PLANTED not in pairs
    # pairs across sources, and within a source that may hold duplicates, are still scored
    assert {("gp:G1", "police:P1"), ("gp:G3", "police:P2"), ("police:P2", "police:P3")} <= pairs
    # and a record of another source does not chain the two into one person, unless an
    # analyst judged them one
    assert _person(root, "gp:G1") != _person(root, "gp:G2")
    engine = Engine(root / "casebridge.duckdb")
    try:
        record_judgement(engine, *PLANTED, "same", "one patient registered twice", "analyst 4")
    finally:
        engine.close()
    link(open_workspace(root))
    assert _person(root, "gp:G1") == _person(root, "gp:G2")


def test_a_model_trained_with_a_source_free_of_duplicates_keeps_its_pairs_out(
    ingested: Path, tmp_path: Path
) -> None:
    root = _copy(ingested, tmp_path, duplicate_free=True)
    link(open_workspace(root))
    rules = [
        rule["blocking_rule"] for rule in _model(root)["blocking_rules_to_generate_predictions"]
    ]
    assert rules and all(DEDUPE_CONDITION in rule for rule in rules)
    assert PLANTED not in _pairs(root)
    assert ("gp:G1", "police:P1") in _pairs(root)


def test_comparisons_per_rule_names_each_rule_and_leaves_out_pairs_within_such_a_source(
    ingested: Path, tmp_path: Path
) -> None:
    engine = open_workspace(shutil.copytree(ingested, tmp_path / "ws")).connect()
    try:
        prepare_link_input(engine, {"gp"})
        shipped = comparisons_per_rule(engine)
        limited = comparisons_per_rule(engine, choices=ModelChoices(has_duplicate_free_source=True))
    finally:
        engine.close()
    assert [name for name, *_ in shipped] == [name for name, *_ in limited]
    assert shipped[0][0] == "names_birth_year"
    # the planted pair is the only pair of the register's records any rule finds
    assert shipped[-1][3] - limited[-1][3] == 1


def test_the_prior_counts_only_pairs_that_may_be_compared() -> None:
    engine = Engine()
    try:
        engine.execute(
            f"CREATE TEMP TABLE {LINK_INPUT} AS SELECT * FROM (VALUES ('a', false), "
            "('a', false), ('a', false), ('b', true), ('b', true)) t(source, dedupe)"
        )
        # ten pairs of five records, three of them within the source free of duplicates
        assert _comparable_share(engine, LINK_INPUT) == pytest.approx(0.7)
        engine.execute(f"DELETE FROM {LINK_INPUT} WHERE source = 'b'")
        with pytest.raises(UsageError, match="every record is in one source"):
            _comparable_share(engine, LINK_INPUT)
    finally:
        engine.close()


# --- the [link] menu --------------------------------------------------------------------------


def test_dropping_a_comparison_retrains_the_model_without_it(linked: Path, tmp_path: Path) -> None:
    root = _copy(linked, tmp_path, 'comparisons_drop = ["sex", "identifiers"]')
    assert {"sex", "identifiers"} <= {c["output_column_name"] for c in _model(root)["comparisons"]}
    link(open_workspace(root))
    compared = {c["output_column_name"] for c in _model(root)["comparisons"]}
    assert not {"sex", "identifiers"} & compared and "location" in compared
    columns = {
        str(row[0]) for row in _query(root, "SELECT name FROM pragma_table_info('match_pair')")
    }
    assert "gamma_sex" not in columns and "gamma_location" in columns
    recorded = json.loads((root / CHOICES_FILE).read_text(encoding="utf-8"))
    assert recorded["comparisons_drop"] == ["identifiers", "sex"]


def test_the_model_is_reused_while_its_settings_stay(linked: Path, tmp_path: Path) -> None:
    # the threshold and the review band do not shape the model
    root = _copy(linked, tmp_path, "threshold = 0.95")
    before = _mark(root / MODEL_FILE)
    link(open_workspace(root))
    assert (root / MODEL_FILE).read_bytes() == before


def test_rules_are_dropped_and_added_by_name(ingested: Path, tmp_path: Path) -> None:
    names_only = ModelChoices(blocking_add=frozenset({"names_only"}))
    dropped = ModelChoices(blocking_drop=frozenset({"identifier_nhs_number", "names_birth_year"}))
    engine = open_workspace(shutil.copytree(ingested, tmp_path / "ws")).connect()
    try:
        prepare_link_input(engine)
        held = with_groups(held_fields(engine))
        # the same names 32 years apart, no place shared: compared only by names alone
        assert not blocked(engine, "gp:G1", "police:P8", held)
        assert blocked(engine, "gp:G1", "police:P8", held, names_only)
        # only the NHS number is shared: compared by its rule alone
        assert blocked(engine, "gp:G4", "police:P9", held)
        assert not blocked(engine, "gp:G4", "police:P9", held, dropped)
        assert blocked(engine, "gp:G3", "police:P2", held, dropped)
    finally:
        engine.close()
    shipped = blocking_rule_sql(held)
    assert len(blocking_rule_sql(held, dropped)) == len(shipped) - 2
    assert len(blocking_rule_sql(held, names_only)) == len(shipped) + 1
    # a rule on a field no record holds is left out, added or not
    postcode = ModelChoices(blocking_add=frozenset({"postcode_any_names"}))
    assert blocking_rule_sql(held, postcode) != shipped
    assert blocking_rule_sql(held - {"postcode"}, postcode) == blocking_rule_sql(
        held - {"postcode"}
    )


def test_identifier_and_location_weights_replace_the_trained(linked: Path, tmp_path: Path) -> None:
    trained = _model(linked)
    root = _copy(linked, tmp_path, "identifier_weight = 20\nlocation_weight = 6")
    link(open_workspace(root))
    model = _model(root)
    assert _weights(model, "identifiers")[0] == pytest.approx(20, abs=1e-6)
    # the disagreeing level keeps its trained weight
    assert _weights(model, "identifiers")[-1] == _weights(trained, "identifiers")[-1]
    location, before = _weights(model, "location"), _weights(trained, "location")
    assert location[0] == pytest.approx(6, abs=1e-6)
    factor = 6 / before[0]
    for now, then in zip(location[1:], before[1:], strict=True):
        assert now == pytest.approx(then * factor if then > 0 else then, abs=1e-6)
    weight = _query(
        root,
        "SELECT mw_identifiers FROM match_pair WHERE least(record_l, record_r) = 'gp:G3' "
        "AND greatest(record_l, record_r) = 'police:P2'",
    )
    assert weight[0][0] == pytest.approx(20, abs=1e-6)


# --- a frozen model -------------------------------------------------------------------------


def test_a_frozen_model_is_used_as_it_is_and_never_retrained(
    linked: Path, ingested: Path, tmp_path: Path
) -> None:
    frozen = freeze_model(open_workspace(linked), tmp_path / "frozen" / "model.json")
    _mark(frozen)
    root = _copy(ingested, tmp_path, f'model = "{frozen}"')
    link(open_workspace(root))
    assert (root / MODEL_FILE).read_bytes() == frozen.read_bytes()
    assert json.loads((root / CHOICES_FILE).read_text(encoding="utf-8"))["model"] == str(frozen)
    with pytest.raises(UsageError, match="never retrained: remove the setting"):
        link(open_workspace(root), retrain=True)


def test_a_frozen_model_that_compares_a_field_the_workspace_lacks_is_refused(
    linked: Path, tmp_path: Path
) -> None:
    frozen = freeze_model(open_workspace(linked), tmp_path / "model.json")
    without_sex = REGISTER.replace("    sex: sex\n", "")
    root = tmp_path / "other"
    ingest(make_workspace(root, {"gp": ("gp.csv", REGISTER_ROWS, without_sex)}))
    settings = (root / SETTINGS_FILE).read_text(encoding="utf-8")
    (root / SETTINGS_FILE).write_text(f'{settings}\n[link]\nmodel = "{frozen}"\n', "utf-8")
    with pytest.raises(WorkspaceError, match="compares sex, which no record") as raised:
        link(open_workspace(root))
    assert "\n" not in str(raised.value)


def test_link_freeze_from_the_command_line(linked: Path, tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    result = runner.invoke(app, ["link", "freeze", "--to", str(target), "-w", str(linked)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (linked / MODEL_FILE).read_bytes()
    again = runner.invoke(app, ["link", "freeze", "--to", str(target), "-w", str(linked)])
    assert again.exit_code == 2 and "exists" in again.output
    overwrite = ["link", "freeze", "--to", str(target), "--overwrite", "-w", str(linked)]
    assert runner.invoke(app, overwrite).exit_code == 0


def test_freezing_before_any_model_is_refused(ingested: Path) -> None:
    with pytest.raises(UsageError, match="run 'casebridge link' first"):
        freeze_model(open_workspace(ingested), ingested / "never.json")


# --- settings that are refused ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("link_settings", "message"),
    [
        ('comparisons_drop = ["gender"]', "unknown name 'gender'; choose from: forename, surname"),
        (
            'blocking_drop = ["names_dob"]',
            "unknown name 'names_dob'; choose from: names_birth_year",
        ),
        ('blocking_add = ["free_sql"]', "unknown name 'free_sql'; choose from: names_only"),
        ('blocking_add = ["names_birth_year"]', "'names_birth_year' is a shipped rule"),
        ('model = "m.json"\ncomparisons_drop = ["sex"]', "remove comparisons_drop"),
        ("identifier_weight = -3", "identifier_weight"),
        ('location_weight = 4\ncomparisons_drop = ["location"]', "location_weight weighs location"),
    ],
)
def test_settings_off_the_menu_are_refused_in_one_line(
    ingested: Path, tmp_path: Path, link_settings: str, message: str
) -> None:
    root = tmp_path / "w"
    root.mkdir()
    settings = (ingested / SETTINGS_FILE).read_text(encoding="utf-8")
    (root / SETTINGS_FILE).write_text(f"{settings}\n[link]\n{link_settings}\n", "utf-8")
    with pytest.raises(WorkspaceError, match="link") as raised:
        open_workspace(root)
    assert message in str(raised.value) and "\n" not in str(raised.value)
