"""docs/service.md's Deployment section names what the code has: the serve command's options,
the database setting, the proxy's port, and the addresses whose forwarded headers are trusted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
import uvicorn

from casebridge.cli import app
from casebridge.web.app import SECURITY_HEADERS
from casebridge.web.config import DATABASE_URL_VARIABLE, SERVICE_DATABASE

SERVICE_DOC = Path(__file__).parents[2] / "docs" / "service.md"


def deployment_section() -> str:
    """The Deployment section of docs/service.md, up to the next section."""
    text = SERVICE_DOC.read_text(encoding="utf-8")
    start = text.index("\n## Deployment\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]


def serve_options() -> dict[str, object]:
    """The serve command's long options, each with its default."""
    command = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    return {
        name: parameter.default
        for parameter in command.params
        for name in parameter.opts
        if name.startswith("--")
    }


def test_the_serve_examples_use_options_serve_has() -> None:
    options = serve_options()
    used = set(re.findall(r"casebridge serve[^\n]*", deployment_section()))
    assert used, "the section shows casebridge serve"
    for line in used:
        for option in re.findall(r"--[a-z-]+", line):
            assert option in options, option
    for option in re.findall(r"`(--[a-z-]+)`", deployment_section()):
        assert option in options, option


def test_the_proxy_forwards_to_where_serve_listens_by_default() -> None:
    options = serve_options()
    section = deployment_section()
    assert f"proxy_pass http://{options['--host']}:{options['--port']};" in section
    defaults = (
        rf"the defaults are\s+`{re.escape(str(options['--host']))}` and `{options['--port']}`"
    )
    assert re.search(defaults, section)


def test_the_database_setting_and_file_are_the_ones_the_code_reads() -> None:
    section = deployment_section()
    assert f"export {DATABASE_URL_VARIABLE}=postgresql://" in section
    assert f"(`{SERVICE_DATABASE}`)" in section


def test_forwarded_headers_are_trusted_from_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # the section says uvicorn trusts X-Forwarded-For from 127.0.0.1 and ::1 unless told
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert "FORWARDED_ALLOW_IPS" in deployment_section()
    config = uvicorn.Config(app="casebridge.web.app:create_app")
    assert config.proxy_headers
    assert sorted(str(config.forwarded_allow_ips).split(",")) == ["127.0.0.1", "::1"]


def test_hsts_comes_from_the_proxy_and_the_rest_from_the_service() -> None:
    section = deployment_section()
    assert "Strict-Transport-Security" not in SECURITY_HEADERS
    assert 'add_header Strict-Transport-Security "max-age=' in section
    assert "Content-Security-Policy" in SECURITY_HEADERS
