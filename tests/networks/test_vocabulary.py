"""The networks stage on kinds as real extracts spell them: the shared [vocabulary] decides
which events are duty reports and CSE assessments, and a duty-report source's events are duty
reports whatever their rows call them."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.engine import Engine
from casebridge.errors import WorkspaceError
from casebridge.networks.run import build_networks
from casebridge.workspace import (
    NetworkSettings,
    VocabularySettings,
    init_workspace,
    open_workspace,
)
from tests.networks.builders import add_event, new_engine

DEFAULTS = NetworkSettings()
SUSPECT, VICTIM = ("suspect", 35), ("victim", 14)


def _report_and_case(engine: Engine, source: str, kind: str) -> None:
    """A report of kind ``kind`` in ``source`` naming S1 with V1 (no offence code, so no
    victim age band), and a police case of S2 against V1."""
    add_event(engine, "D1", {"S1": SUSPECT, "V1": ("victim", None)}, source=source, kind=kind,
              band=None)  # fmt: skip
    add_event(engine, "E1", {"S2": SUSPECT, "V1": VICTIM})


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("dtr", "Duty Report"),
        ("dtr", "report"),  # a duty-report source: every event is a duty report
        ("la", "CSE Risk Assessment"),
        ("la", "cse-assessment"),
        ("force_b", "duty_to_report"),  # a force holding the reports it receives
    ],
)
def test_reports_spelt_as_sources_spell_them_tie_suspects(source: str, kind: str) -> None:
    engine = new_engine()
    _report_and_case(engine, source, kind)
    assert build_networks(engine, DEFAULTS).networks == 1


def test_a_police_report_of_another_kind_is_not_in_scope_whatever_it_is_called() -> None:
    engine = new_engine()
    _report_and_case(engine, "force_b", "report")
    assert build_networks(engine, DEFAULTS).networks == 0


def test_the_vocabulary_names_further_kinds() -> None:
    engine = new_engine()
    _report_and_case(engine, "la", "exploitation_screening_tool")
    assert build_networks(engine, DEFAULTS).networks == 0
    local = VocabularySettings(assessment_kinds=("exploitation screening tool",))
    assert build_networks(engine, DEFAULTS, local).networks == 1


def test_event_kinds_still_adds_kinds_in_scope() -> None:
    engine = new_engine()
    _report_and_case(engine, "la", "strategy meeting")
    assert build_networks(engine, NetworkSettings(event_kinds=("Strategy_Meeting",))).networks == 1


def test_a_victims_age_from_the_best_birth_date_counts_in_whole_years_as_the_law_does() -> None:
    """The day before her 18th birthday she is a child; on it she is not (calendar_age)."""
    for born, groups in (("2002-01-02", 1), ("2002-01-01", 0)):
        engine = new_engine()
        engine.execute("INSERT INTO person VALUES ('V1', ?)", [born])
        add_event(engine, "E1", {"S1": SUSPECT, "S2": SUSPECT, "V1": ("victim", None)},
                  band="any", on="2020-01-01")  # fmt: skip
        assert build_networks(engine, DEFAULTS).networks == groups, born


def test_the_vocabulary_section_is_read_and_checked(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root)
    settings = root / "casebridge.toml"
    with settings.open("a", encoding="utf-8") as out:
        out.write('\n[vocabulary]\nmissing_kinds = ["Missing Episode", "MFH"]\n')
    vocabulary = open_workspace(root).settings.vocabulary
    assert vocabulary.missing_kinds == ("Missing Episode", "MFH")
    assert vocabulary.duty_report_kinds == VocabularySettings().duty_report_kinds
    with settings.open("a", encoding="utf-8") as out:
        out.write('assessment_kinds = ["cse; drop table"]\n')
    with pytest.raises(WorkspaceError, match="vocabulary.assessment_kinds"):
        open_workspace(root)
