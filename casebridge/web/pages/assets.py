"""The pages' static files, served by the service itself from its own origin.

Our own stylesheet and script live in ``casebridge/web/static/``; the browser libraries (htmx,
Cytoscape.js) are copied into ``static/vendor/`` by ``make assets`` from the npm packages that
``package-lock.json`` pins, and ship inside the Python package. Nothing is ever loaded from
another origin: the Content-Security-Policy (``script-src 'self'; style-src 'self'``) would
refuse it, and an air-gapped network could not reach it.

Every file is read once, when the service starts, and served from memory under a URL that
carries its content's digest (``/static/app.css?v=3f2a…``), so a browser may keep it for a year
and still never use a stale copy.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from casebridge.errors import CasebridgeError

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = "vendor"
# the browser libraries the pages cannot work without (make assets copies them in)
REQUIRED = (f"{VENDOR}/htmx.min.js", f"{VENDOR}/cytoscape.min.js")
SERVED_SUFFIXES = frozenset({".css", ".js", ".svg", ".txt"})
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "no-cache"


class AssetsMissingError(CasebridgeError):
    """The browser libraries were not copied into the package."""


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, its media type and the digest its URL carries."""

    content: bytes
    media_type: str
    digest: str


def _media_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    kind = guessed or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or path.suffix == ".js" else kind


def load_assets(folder: Path = STATIC) -> dict[str, Asset]:
    """Every servable file under ``folder`` by its path (``vendor/htmx.min.js``); refuses to
    go on without the browser libraries."""
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise AssetsMissingError(
            f"the pages' browser libraries are missing ({folder.name}/{missing[0]}): run "
            "'make assets' in the source checkout (it installs them with npm ci from "
            "package-lock.json), or install a built casebridge package"
        )
    found: dict[str, Asset] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in SERVED_SUFFIXES:
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:16]
            found[path.relative_to(folder).as_posix()] = Asset(content, _media_type(path), digest)
    return found


def asset_url(assets: dict[str, Asset], name: str) -> str:
    """The URL of a static file, with its digest; a name that is not there is a bug."""
    return f"/static/{name}?v={assets[name].digest}"
