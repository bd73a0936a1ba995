"""Audit settings (``[audit]`` in casebridge.toml): disclosure control, the population baseline
and the limits that data-quality checks use. ``docs/audit.md`` lists every one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casebridge.audit.disclosure import DisclosureSettings
from casebridge.standard.vocabulary import DUTY_REPORT_KINDS


class AuditSettings(BaseModel):
    """What the audit publishes and how it is protected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disclosure: DisclosureSettings = DisclosureSettings()
    population_baseline: Path | None = Field(
        default=None,
        description="CSV of the area's population by ethnicity (code or group, population)",
    )
    baseline_name: str = Field(
        default="population baseline", description="what the baseline is, for the report"
    )
    confidence: float = Field(
        default=0.95, gt=0, lt=1, description="level of the chance intervals beside the bounds"
    )
    earliest_date: dt.date = Field(
        default=dt.date(1950, 1, 1), description="an event or outcome before it is out of range"
    )
    earliest_birth: dt.date = Field(
        default=dt.date(1900, 1, 1), description="a date of birth before it is out of range"
    )
    # taken from [link] and [vocabulary] by the command line, so that every stage agrees
    link_threshold: float = Field(default=0.9, gt=0, le=1, description="as [link] threshold")
    review_low: float = Field(default=0.3, ge=0, le=1, description="as [link] review_low")
    review_high: float = Field(default=0.95, ge=0, le=1, description="as [link] review_high")
    duty_report_kinds: tuple[str, ...] = Field(
        default=DUTY_REPORT_KINDS, description="as [vocabulary] duty_report_kinds"
    )
    priority_bands: tuple[float, ...] = Field(
        default=(3, 6, 10),
        description="review-queue priority band lower edges, ascending",
        allow_inf_nan=False,
    )

    @model_validator(mode="after")
    def _ordered(self) -> AuditSettings:
        if not self.review_low < self.review_high:
            raise ValueError("review_low must be below review_high")
        if list(self.priority_bands) != sorted(set(self.priority_bands)):
            raise ValueError("priority_bands must be ascending and distinct")
        return self
