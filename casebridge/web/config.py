"""The service's settings: from the workspace and the environment, never from the data."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DATABASE_URL_VARIABLE = "CASEBRIDGE_DATABASE_URL"
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
    # a signed checkpoint of the trail after this many entries
    checkpoint_every: int = Field(default=100, gt=0)
    # failed logins before an account is locked, and for how long
    lockout_after: int = Field(default=5, gt=0)
    lockout_minutes: int = Field(default=15, gt=0)


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
