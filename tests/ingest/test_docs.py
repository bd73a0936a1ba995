"""The worked example in docs/mapping.md runs exactly as written, and gives what it says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.workspace import init_workspace, open_workspace
from tests.ingest.helpers import make_workspace, query_rows

DOCS = Path(__file__).parents[2] / "docs"


def _block(text: str, marker: str) -> tuple[str, str]:
    match = re.search(rf"<!-- {marker}: (\S+) -->\n```\w+\n(.*?)```", text, re.DOTALL)
    assert match, marker
    return match.group(1), match.group(2)


def test_the_worked_mapping_example_ingests_as_the_docs_say(tmp_path: Path) -> None:
    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    extract_name, extract = _block(text, "example-extract")
    mapping_name, mapping = _block(text, "example-mapping")
    toml = re.search(r"```toml\n(\[\[sources\]\].*?)```", text, re.DOTALL)
    assert toml
    root = tmp_path / "ws"
    init_workspace(root)
    (root / "extracts").mkdir()
    (root / "extracts" / extract_name).write_bytes(extract.encode("cp1252"))
    (root / "mappings" / mapping_name).write_text(mapping, encoding="utf-8")
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write("\n" + toml.group(1))
    [report] = ingest(open_workspace(root))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert report.values_set_aside == 1
    engine = Engine(root / "casebridge.duckdb")
    try:
        child = engine.query(
            "SELECT date_of_birth, dob_raw, surname FROM person_record WHERE local_id = 'MRN77002'"
        )
        adult = engine.query(
            "SELECT p.forename, p.surname, i.role, i.age_at_event FROM person_record p "
            "JOIN involvement i ON i.record_id = p.record_id WHERE p.local_id = 'HR-0001/1'"
        )
        irish = engine.query(
            "SELECT ethnicity_self, postcode FROM person_record WHERE local_id = 'MRN77001'"
        )
    finally:
        engine.close()
    assert child == [(None, "31.02.2010", "begum")]
    assert adult == [("jon", "smyth", "person_of_concern", 34)]
    assert irish == [("W2", "BD3 7AB")]


def test_the_list_of_adults_example_ingests_as_the_docs_say(tmp_path: Path) -> None:
    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    extract_name, extract = _block(text, "example-json-extract")
    _, mapping = _block(text, "example-json-mapping")
    workspace = make_workspace(tmp_path / "ws", {"front_door": (extract_name, extract, mapping)})
    [report] = ingest(workspace)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (2, 2, 0)
    assert report.values_set_aside == 1
    adults = query_rows(
        tmp_path / "ws",
        "SELECT p.local_id, p.forename, p.surname, i.age_at_event FROM person_record p "
        "JOIN involvement i ON i.record_id = p.record_id "
        "WHERE i.role = 'person_of_concern' ORDER BY 1",
    )
    assert adults == [("R-123#1", "dale", "ormsby", 41), ("R-123#3", "kev", "tranter", None)]
    numbers = query_rows(
        tmp_path / "ws", "SELECT local_id, value, value_raw FROM identifier ORDER BY 1"
    )
    assert numbers == [("CH-10", None, "401 023 2138"), ("CH-9", "9434765919", "943 476 5919")]
    finding = query_rows(tmp_path / "ws", "SELECT local_id, field, problem FROM finding")
    assert finding == [("CH-10", "identifier:nhs_number", "bad_check_digit")]


def test_the_docs_name_every_mapping_key() -> None:
    from casebridge.ingest.mapping import (
        EventBlock,
        FieldSpec,
        IdentifierSpec,
        Mapping,
        PersonBlock,
        Reader,
    )

    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    for scheme in get_args(IdentifierSpec.model_fields["scheme"].annotation):
        assert f"| `{scheme}` |" in text, f"docs/mapping.md does not describe the scheme {scheme}"
    for model in (Mapping, Reader, EventBlock, PersonBlock, FieldSpec, IdentifierSpec):
        for key in model.model_fields:
            assert f"`{key}" in text, f"docs/mapping.md does not mention {model.__name__}.{key}"
