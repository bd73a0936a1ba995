"""The service's settings: from the workspace and the environment, never from the data."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DATABASE_URL_VARIABLE = "CASEBRIDGE_DATABASE_URL"
# OIDC sign-in (docs/service.md, "OIDC"): off unless the metadata URL and client id are given
OIDC_METADATA_URL_VARIABLE = "CASEBRIDGE_OIDC_METADATA_URL"
OIDC_CLIENT_ID_VARIABLE = "CASEBRIDGE_OIDC_CLIENT_ID"
OIDC_REDIRECT_URL_VARIABLE = "CASEBRIDGE_OIDC_REDIRECT_URL"
SERVICE_DATABASE = "service.sqlite"


class ServiceSettings(BaseModel):
    """Where the service keeps what people do, and how long a session lives."""

    model_config = ConfigDict(frozen=True)

    workspace: Path
    database_url: str
    # cookies carry Secure unless told otherwise (tests and a plain-HTTP loopback demo)
    secure_cookies: bool = True
    idle_minutes: int = Field(default=30, gt=0)
    absolute_hours: int = Field(default=10, gt=0)
    # requests worked on at once (the rest wait their turn): each runs in a thread, and more
    # threads than this on a few cores only contend for Python's lock and the database's
    worker_threads: int = Field(default=8, gt=0, le=256)
    # a signed checkpoint of the trail after this many entries
    checkpoint_every: int = Field(default=100, gt=0)
    # failed logins before an account is locked, and for how long
    lockout_after: int = Field(default=5, gt=0)
    lockout_minutes: int = Field(default=15, gt=0)
    # failed sign-ins from one address within lockout_minutes before it must wait
    address_attempts: int = Field(default=30, gt=0)
    # the identity provider's discovery document (.well-known/openid-configuration), the
    # client id it gave casebridge, and the callback URL registered with it; the client secret
    # is read from CASEBRIDGE_OIDC_CLIENT_SECRET when it is needed, never kept here
    oidc_metadata_url: str | None = Field(
        default_factory=lambda: _environment(OIDC_METADATA_URL_VARIABLE)
    )
    oidc_client_id: str | None = Field(
        default_factory=lambda: _environment(OIDC_CLIENT_ID_VARIABLE)
    )
    oidc_redirect_url: str | None = Field(
        default_factory=lambda: _environment(OIDC_REDIRECT_URL_VARIABLE)
    )


def _environment(variable: str) -> str | None:
    """The variable's value, or None when it is unset or blank."""
    return os.environ.get(variable, "").strip() or None


def default_database_url(workspace: Path) -> str:
    """SQLite in the workspace, unless ``CASEBRIDGE_DATABASE_URL`` names another database."""
    given = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if given:
        return given
    return f"sqlite:///{(workspace / SERVICE_DATABASE).resolve()}"


def settings_for(workspace: Path, **overrides: object) -> ServiceSettings:
    """The settings for serving ``workspace``, with the database from the environment."""
    values: dict[str, object] = {
        "workspace": workspace,
        "database_url": default_database_url(workspace),
    }
    values.update(overrides)
    return ServiceSettings.model_validate(values)
