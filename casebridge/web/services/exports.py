"""One network as a file: GraphML, GEXF, or i2's CSV entities and links (a zip), made by the
pipeline's own exporter (``casebridge/networks/export.py``) from that network's rows alone.

The snapshot is read-only, so the network's rows are copied into a database in memory and the
exporter runs there; no file is left behind. Before it runs, the members outside the caller's
scopes take their withheld names and the events outside them are left out, as the network's
JSON answer shows them (:class:`~casebridge.web.services.shapes.NetworkView`). Every CSV cell
is neutralised against formula injection (:func:`neutralise_cell`), since a spreadsheet opens
these files too.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.networks.export import FILES, export_networks
from casebridge.web.services.shapes import NetworkView
from casebridge.web.snapshot import SnapshotReader

# a spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "i2": "application/zip",
}
SUFFIX = {"graphml": "graphml", "gexf": "gexf", "i2": "zip"}
# the rows of one network, for the exporter (the tables it reads)
NETWORK_ROWS = {
    "network_member": "SELECT * FROM network_member WHERE network_id = $id",
    "network_edge": "SELECT * FROM network_edge WHERE network_id = $id",
    "event": """SELECT * FROM event WHERE event_id IN (
        SELECT unnest(events) FROM network_edge WHERE network_id = $id)""",
    "involvement": """SELECT * FROM involvement WHERE event_id IN (
        SELECT unnest(events) FROM network_edge WHERE network_id = $id)""",
    "person_link": """SELECT * FROM person_link WHERE record_id IN (
        SELECT record_id FROM involvement WHERE event_id IN (
            SELECT unnest(events) FROM network_edge WHERE network_id = $id))""",
}

# what the caller's scopes do not show is withheld before the exporter sees the rows: members
# by their withheld names (cb_names: person_id, shown), events not at all ($1: those shown)
WITHHOLD = (
    "DELETE FROM person_link WHERE person_id NOT IN (SELECT person_id FROM cb_names)",
    "UPDATE person_link SET person_id = n.shown FROM cb_names n "
    "WHERE n.person_id = person_link.person_id",
    "UPDATE network_member SET person_id = n.shown FROM cb_names n "
    "WHERE n.person_id = network_member.person_id",
    "UPDATE network_edge SET person_a = n.shown FROM cb_names n "
    "WHERE n.person_id = network_edge.person_a",
    "UPDATE network_edge SET person_b = n.shown FROM cb_names n "
    "WHERE n.person_id = network_edge.person_b",
    "UPDATE network_edge SET events = list_filter(events, lambda e: list_contains($1, e))",
    "DELETE FROM event WHERE NOT list_contains($1, event_id)",
    "DELETE FROM involvement WHERE NOT list_contains($1, event_id)",
)


def neutralise_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting as a formula gets a leading ``'``.

    >>> neutralise_cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> neutralise_cell("PN0000001")
    'PN0000001'
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralise_csv(text: str) -> str:
    """A CSV file's text with every cell neutralised; ``# `` comment lines before the header
    (the personal-data marking) are kept as they are."""
    lines = text.splitlines(keepends=True)
    kept = 0
    while kept < len(lines) and lines[kept].startswith("# "):
        kept += 1
    out = io.StringIO()
    out.write("".join(lines[:kept]))
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO("".join(lines[kept:]))):
        writer.writerow([neutralise_cell(cell) for cell in row])
    return out.getvalue()


@dataclass(frozen=True)
class ExportedFile:
    """A file to send: its name, media type and bytes."""

    name: str
    media_type: str
    content: bytes


def export_network(
    reader: SnapshotReader, network_id: str, kind: str, view: NetworkView
) -> ExportedFile:
    """One network as ``kind`` (graphml, gexf or i2), as ``view`` shows it."""
    memory = Engine()
    try:
        for table, query in NETWORK_ROWS.items():
            frame = reader.connection.sql(query, params={"id": network_id}).to_arrow_table()
            memory.create_table_from_arrow(table, frame)
        names = pl.DataFrame(
            {"person_id": list(view.names), "shown": list(view.names.values())},
            schema={"person_id": pl.String, "shown": pl.String},
        )
        memory.create_table_from_arrow("cb_names", names, temporary=True)
        for statement in WITHHOLD:
            memory.connection.execute(
                statement, [sorted(view.events)] if "$1" in statement else None
            )
        with tempfile.TemporaryDirectory(prefix="casebridge-export-") as folder:
            written = export_networks(memory, Path(folder), ["csv" if kind == "i2" else kind])
            content = _zip_csv(written) if kind == "i2" else written[0].read_bytes()
    finally:
        memory.close()
    name = f"{network_id}.{SUFFIX[kind]}"
    return ExportedFile(name, MEDIA[kind], content)


def _zip_csv(written: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in written:
            if path.name in FILES["csv"]:
                archive.writestr(path.name, neutralise_csv(path.read_text(encoding="utf-8")))
    return buffer.getvalue()
