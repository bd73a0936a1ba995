"""One network as a file: GraphML, GEXF, or i2's CSV entities and links (a zip), made by the
pipeline's own exporter (``casebridge/networks/export.py``) from that network's rows alone.

The snapshot is read-only, so the network's rows are copied into a database in memory and the
exporter runs there; no file is left behind. Every CSV cell is neutralised against formula
injection (:func:`neutralise_cell`), since a spreadsheet opens these files too.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from casebridge.engine import Engine
from casebridge.networks.export import FILES, export_networks
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


def export_network(reader: SnapshotReader, network_id: str, kind: str) -> ExportedFile:
    """One network as ``kind`` (graphml, gexf or i2)."""
    memory = Engine()
    try:
        for table, query in NETWORK_ROWS.items():
            frame = reader.connection.sql(query, params={"id": network_id}).to_arrow_table()
            memory.create_table_from_arrow(table, frame)
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
