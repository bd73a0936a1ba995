"""The audit report as the service serves it: made by the audit stage's own renderer
(``casebridge.audit.report.report_html``, as ``casebridge report`` writes it) from the audit
tables of the current snapshot, with its stylesheet and script served as static files instead
of inlined (the service's CSP refuses inline styles and scripts).

A report takes about a second to make, so each is kept, per snapshot and version (published
or internal), until a newer snapshot replaces it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from casebridge.audit.report import ASSETS, LinkedAssets, ReportContext, report_html
from casebridge.web.snapshot import MODEL, SnapshotReader
from casebridge.workspace import open_workspace

# the audit tables a report needs, published (disclosure-controlled) or exact
NEEDED = {False: "audit_person_completeness_published", True: "audit_person_completeness"}
# the report's own stylesheet and script, served under these static names
REPORT_ASSETS = {"audit/report.css": ASSETS / "report.css", "audit/report.js": ASSETS / "report.js"}
KEPT = 4

_made: dict[tuple[str, bool], str] = {}
_lock = threading.Lock()


def report_document(
    reader: SnapshotReader, workspace: Path, internal: bool, linked: LinkedAssets
) -> str:
    """The report of the snapshot ``reader`` reads: published, or ``internal`` (exact counts,
    marked so on every section)."""
    key = (str(reader.snapshot.folder), internal)
    with _lock:
        found = _made.get(key)
    if found is not None:
        return found
    opened = open_workspace(workspace)
    model = reader.snapshot.folder / MODEL
    context = ReportContext(opened.settings.name, opened.root / "rules", internal)
    html = report_html(
        reader, opened.audit_settings(), model if model.is_file() else None, context, linked
    )
    with _lock:
        if len(_made) >= KEPT:
            _made.pop(next(iter(_made)))
        _made[key] = html
    return html
