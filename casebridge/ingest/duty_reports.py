"""The review service's duty reports as sources of the next ingest (docs/workspace.md, "Duty
reports from the review service").

Reports filed in the service (``casebridge serve``: the form or ``POST /api/duty-reports``)
live in its operational database, the one ``casebridge serve`` uses for the workspace
(``CASEBRIDGE_DATABASE_URL``, else ``service.sqlite`` in the workspace). Before loading,
``casebridge ingest`` (and so ``casebridge run``) writes them to ``duty_reports/`` in the
workspace, one JSON Lines extract per police force they were routed to, with the mapping that
ships in the package (``duty_report_mapping.yaml``), and loads each as a source of kind
``duty_report`` whose agency is that force: so the records are in that force's scope, as the
report is. Reports no force could be found for are one source, ``duty_reports_unrouted``
(agency :data:`UNROUTED_AGENCY`). The child and each person of concern become records with the
report as their event, and are linked by Splink like any other source's. What the standard
has no field for (the reporter, the relationship to the child, the date of the report) stays in
the service's database.
"""

from __future__ import annotations

import json
import os
import re
from importlib.resources import files
from pathlib import Path

from casebridge.errors import WorkspaceError
from casebridge.workspace import OWNER_ONLY_FILE, OWNER_ONLY_FOLDER, SourceSettings, Workspace

DUTY_FOLDER = "duty_reports"
DUTY_KEY = "duty_reports"
UNROUTED_AGENCY = "Unrouted duty reports"
MAPPING_TEMPLATE = "duty_report_mapping.yaml"
Report = tuple[str, str | None, dict[str, object]]


def source_key(force: str | None) -> str:
    """The source key of the reports routed to ``force`` (None: unrouted)."""
    if force is None:
        return f"{DUTY_KEY}_unrouted"
    slug = re.sub(r"[^a-z0-9]+", "_", force.lower()).strip("_") or "force"
    return f"{DUTY_KEY}_{slug}"


def service_duty_sources(workspace: Workspace) -> list[SourceSettings]:
    """One source per force the service's duty reports were routed to (and one for those
    unrouted), their extracts and mappings written to ``duty_reports/``; none when the service
    has no database or no reports."""
    reports = _service_reports(workspace.root)
    if not reports:
        return []
    by_force: dict[str | None, list[Report]] = {}
    for found in reports:
        by_force.setdefault(found[1], []).append(found)
    folder = workspace.root / DUTY_FOLDER
    folder.mkdir(mode=OWNER_ONLY_FOLDER, exist_ok=True)
    declared = {source.key for source in workspace.settings.sources}
    sources = []
    for force, held in sorted(by_force.items(), key=lambda pair: source_key(pair[0])):
        key = source_key(force)
        if key in declared:
            raise WorkspaceError(
                f"casebridge.toml declares a source {key!r}, the name ingest gives the review "
                "service's duty reports: rename that source"
            )
        extract, mapping = folder / f"{key}.jsonl", folder / f"{key}.yaml"
        _write(extract, "".join(_line(reference, report) for reference, _, report in held))
        _write(mapping, _mapping_text(key))
        agency = UNROUTED_AGENCY if force is None else force
        sources.append(
            SourceSettings(
                key=key, agency=agency, kind="duty_report", path=str(extract), mapping=str(mapping)
            )  # fmt: skip
        )
    return sources


def _line(reference: str, report: dict[str, object]) -> str:
    """A report as one JSON line: every key always written (null when not given), so that the
    mapping's paths exist in every extract."""
    child = dict(report.get("child") or {})  # type: ignore[call-overload]
    persons = list(report.get("persons_of_concern") or [])  # type: ignore[call-overload]
    person_keys = ("forenames", "surname", "date_of_birth", "age", "sex")
    row = {
        "reference": reference,
        "disclosed_on": report.get("disclosed_on"),
        "disclosure": report.get("disclosure"),
        "child": {"ref": "child", **{k: child.get(k) for k in (*person_keys, "postcode")}},
        "persons_of_concern": [
            {"ref": f"p{n}", **{k: person.get(k) for k in person_keys}}
            for n, person in enumerate(persons, 1)
        ],
    }
    return json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


def _mapping_text(key: str) -> str:
    template = (files("casebridge.ingest") / MAPPING_TEMPLATE).read_text(encoding="utf-8")
    return template.replace(f"\nsource: {DUTY_KEY}\n", f"\nsource: {key}\n", 1)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` for its owner only, unless it holds that already."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(OWNER_ONLY_FILE)


def _service_reports(root: Path) -> list[Report]:
    """Every report in the service's database, oldest first; none without one."""
    # the service's stack is loaded only here: a workspace never served never needs it
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from casebridge.web.config import default_database_url
    from casebridge.web.db import make_engine
    from casebridge.web.duty_access import stored_reports

    url = default_database_url(root)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return []
    service = make_engine(url)
    try:
        if not inspect(service).has_table("duty_report"):
            return []
        with Session(service) as session:
            return stored_reports(session)
    except SQLAlchemyError:
        raise WorkspaceError(
            "the review service's database could not be read for its duty reports; check "
            "CASEBRIDGE_DATABASE_URL (docs/service.md)"
        ) from None
    finally:
        service.dispose()
