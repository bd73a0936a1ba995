"""Which police force a duty report goes to: by the child's postcode district, else its area.

The table is a CSV of ``postcode,force`` rows, where ``postcode`` is a district (``SW1A``,
``NS1``) or an area (``SW``, ``BN``); a district's row wins over its area's. casebridge ships
an area-level table (``web/data/police_force_postcode_areas.csv``: only areas wholly inside one
force, its source and limits at its top); a deployment gives its own, made from the ONS
Postcode Directory's police force area column, with ``CASEBRIDGE_DUTY_ROUTING``, and it
replaces the shipped one. A postcode that no row covers, or none at all, routes nowhere: the
report is kept, flagged unrouted for a supervisor.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from casebridge.errors import CasebridgeError

SHIPPED_TABLE = "police_force_postcode_areas.csv"
# a UK postcode (Royal Mail's format: outward code = area letters, district digit(s) and an
# optional letter; inward code = sector digit and unit letters), spaces removed
FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
AREA = re.compile(r"^[A-Z]{1,2}$")


class RoutingTableError(CasebridgeError):
    """The duty-report routing table cannot be read or holds a row that is no postcode area or
    district."""


@dataclass(frozen=True)
class Postcode:
    """A postcode as a report gives it: its canonical text, district and area."""

    text: str
    district: str
    area: str


def parse_postcode(given: str) -> Postcode | None:
    """The postcode ``given`` (any case and spacing; a full postcode or an outward code alone),
    or None when it is not one."""
    squeezed = re.sub(r"\s+", "", given).upper()
    full = FULL_POSTCODE.match(squeezed)
    if full:
        district = full.group(1)
        text = f"{district} {full.group(2)}"
    elif OUTWARD_CODE.match(squeezed):
        district = text = squeezed
    else:
        return None
    return Postcode(text, district, re.sub(r"[0-9].*$", "", district))


@dataclass(frozen=True)
class RoutingTable:
    """Postcode districts and areas to police forces, and where the table came from."""

    forces: dict[str, str]
    source: str

    def force_for(self, postcode: Postcode | None) -> str | None:
        """The force a report about ``postcode`` goes to: its district's, else its area's."""
        if postcode is None:
            return None
        return self.forces.get(postcode.district) or self.forces.get(postcode.area)


def read_table(path: Path, label: str) -> RoutingTable:
    """The table in the CSV at ``path`` (``# `` comment lines first, then ``postcode,force``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise RoutingTableError(
            f"the duty-report routing table {label} cannot be read; give a UTF-8 CSV file "
            "with the columns postcode,force"
        ) from None
    body = [
        (number, line)
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.startswith("#")
    ]
    header = next(csv.reader([body[0][1]])) if body else []
    if [h.strip().lower() for h in header] != ["postcode", "force"]:
        raise RoutingTableError(
            f"the duty-report routing table {label} must start with the header postcode,force"
        )
    forces: dict[str, str] = {}
    for number, line in body[1:]:
        row = next(csv.reader([line]))
        key = row[0].replace(" ", "").upper() if row else ""
        force = row[1].strip() if len(row) == 2 else ""
        if not (AREA.match(key) or OUTWARD_CODE.match(key)) or not force:
            raise RoutingTableError(
                f"{label}, line {number}: give a postcode area or district and a force name"
            )
        forces[key] = force
    return RoutingTable(forces, label)


@lru_cache(maxsize=8)
def _cached(path: Path, label: str, stamp: float) -> RoutingTable:
    return read_table(path, label)


def routing_table(workspace: Path, given: Path | None) -> RoutingTable:
    """The deployment's table (``given``, relative to the workspace or absolute), else the
    shipped area table; re-read when the file changes."""
    if given is None:
        shipped = Path(str(files("casebridge.web") / "data" / SHIPPED_TABLE))
        return _cached(shipped, f"shipped ({SHIPPED_TABLE})", 0.0)
    path = given if given.is_absolute() else workspace / given
    try:
        stamp = path.stat().st_mtime
    except OSError:
        raise RoutingTableError(
            "the duty-report routing table named by CASEBRIDGE_DUTY_ROUTING does not exist; "
            "give the path of a CSV with the columns postcode,force"
        ) from None
    return _cached(path, path.name, stamp)
