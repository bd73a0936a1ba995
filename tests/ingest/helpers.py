"""Small hand-made workspaces for ingest tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from casebridge.engine import Engine
from casebridge.workspace import Workspace, init_workspace


def make_workspace(root: Path, sources: dict[str, tuple[str, str, str]]) -> Workspace:
    """A workspace with sources given as key -> (file name, file text, mapping YAML)."""
    init_workspace(root)
    settings = [(root / "casebridge.toml").read_text(encoding="utf-8")]
    for key, (file_name, _, mapping) in sources.items():
        settings.append(
            f'[[sources]]\nkey = "{key}"\nagency = "Test agency"\nkind = "police"\n'
            f'path = "extracts/{file_name}"\nmapping = "mappings/{key}.yaml"\n'
        )
        (root / "mappings" / f"{key}.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    (root / "extracts").mkdir()
    (root / "casebridge.toml").write_text("\n".join(settings), encoding="utf-8")
    for file_name, content, _ in sources.values():
        (root / "extracts" / file_name).write_text(content, encoding="utf-8")
    from casebridge.workspace import open_workspace

    return open_workspace(root)


def query_rows(root: Path, query: str) -> list[tuple[object, ...]]:
    """The rows a query gives on a workspace's database."""
    engine = Engine(root / "casebridge.duckdb")
    try:
        return engine.query(query)
    finally:
        engine.close()


def table_counts(workspace: Workspace) -> dict[str, int]:
    """Rows in every standard table."""
    engine = Engine(workspace.database)
    try:
        names = ("source", "person_record", "event", "involvement", "quarantine", "finding")
        return {name: int(engine.scalar(f"SELECT count(*) FROM {name}")) for name in names}
    finally:
        engine.close()


SIMPLE_MAPPING = """\
source: simple
format: csv
event:
  local_id: Ref
  kind: {constant: crime}
  date: {column: Date, formats: ["%d/%m/%Y"]}
persons:
  - local_id: PersonID
    role: Role
    full_name: {column: Name, order: surname_first}
    date_of_birth: {column: DOB, formats: ["%d/%m/%Y"]}
    postcode: Postcode
"""
SIMPLE_CSV = """\
Ref,PersonID,Role,Name,DOB,Date,Postcode
C1,P1,Victim,"SMITH, Jane",01/02/2008,05/06/2021,BD3 7AB
C1,P2,Suspect,"JONES, Mark Paul",30/02/1980,05/06/2021,bd37ab
C2,P2,Suspect,"JONES, Mark",03/04/1980,07/08/2022,not a postcode
"""

JSON_PEOPLE_MAPPING = """\
source: s
format: jsonl
event: {local_id: ref, kind: {constant: duty_report}}
persons:
  - each: people
    local_id: {join: [/ref, id], separator: "-"}
    role: {constant: suspect}
    full_name: {column: name, order: forenames_first}
"""
