"""The profile: every rate the synthetic generator uses, typed and validated.

A profile is a YAML file. The shipped ones live in ``casebridge/synth/profiles/``; a user may
also pass the path of their own. ``docs/synth.md`` documents every field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from casebridge.errors import ProfileError
from casebridge.synth.vocab import ethnicity_wordings, nationality_wordings, styles_of

PROFILE_DIR = Path(__file__).parent / "profiles"

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Strict):
    """An inclusive range of whole numbers."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Scenarios(_Strict):
    """How many planted cases of each kind, per 100,000 people."""

    networks_per_100k: float = Field(ge=0)
    network_suspects: Span
    network_victims: Span
    network_forces: Span
    network_span_days: Span
    single_offender_cases_per_100k: float = Field(ge=0)
    duty_report_unmatched_per_100k: float = Field(ge=0)
    background_appearances_mean: float = Field(gt=0)
    false_tie_rate: Rate


class Plants(_Strict):
    """Shares of eligible cases turned into the patterns review teams look for."""

    downgrade: Rate
    victim_not_supporting: Rate
    network_charged: Rate
    victim_in_care: Rate
    cse_assessment: Rate
    repeated_missing: Rate
    duty_report_on_victim: Rate
    # absent from profiles written before it: no adults named in background referrals
    adult_in_referral: Rate = 0.0
    # absent from profiles written before them: no planted person's birth written as a year
    # only, and no adult of concern in a referral investigated for that child
    birth_year_only: Rate = 0.0
    concern_investigated: Rate = 0.0


class NameNoise(_Strict):
    variant: Rate
    variant_from_list: Rate
    nickname: Rate
    forename_typo: Rate
    surname_typo: Rate
    swapped: Rate
    middle_name_dropped: Rate
    alias_recorded: Rate


class DobNoise(_Strict):
    day_month_swapped: Rate
    wrong_year: Rate
    year_only: Rate
    missing: Rate


class OriginNoise(_Strict):
    """How records bend names by their origin's convention (``synth/conventions.py``); each a
    share of that origin's records. A profile without this section bends none."""

    vietnamese_order_swapped: Rate = 0.0
    tone_marks_dropped: Rate = 0.0
    somali_patronymic_dropped: Rate = 0.0
    afghan_one_name_only: Rate = 0.0
    afghan_single_name_repeated: Rate = 0.0
    sikh_family_name_dropped: Rate = 0.0
    polish_masculine_form: Rate = 0.0
    diacritics_dropped: Rate = 0.0
    romanian_cedilla: Rate = 0.0


class Noise(_Strict):
    names: NameNoise
    origins: OriginNoise = OriginNoise()
    dob: DobNoise
    postcode_missing: Rate
    postcode_partial: Rate
    moved_house: Rate
    phone_recorded: Rate
    duplicate_record: Rate
    suspect_ethnicity_missing: dict[str, Rate]
    other_ethnicity_missing: Rate
    suspect_nationality_missing: Rate
    other_nationality_missing: Rate
    cse_flag_when_cse: Rate
    cse_flag_when_not: Rate


class Wording(_Strict):
    """Shares of each style of wording written for a filled value (each set adds up to 1).

    Styles are those of the generator's own wording files (``synth/data/wording/``).
    """

    ethnicity_text: dict[str, Rate]
    nationality_words: dict[str, Rate]

    @model_validator(mode="after")
    def _known_styles_adding_up(self) -> Wording:
        known = {
            "ethnicity_text": styles_of(ethnicity_wordings()),
            "nationality_words": styles_of(nationality_wordings()),
        }
        for field, styles in known.items():
            shares: dict[str, float] = getattr(self, field)
            unknown = sorted(set(shares) - styles)
            if unknown:
                raise ValueError(
                    f"{field}: unknown style {unknown[0]!r}; styles are {', '.join(sorted(styles))}"
                )
            total = sum(shares.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"{field} shares add up to {total:.4f}, not 1")
        return self


class Malformed(_Strict):
    """Per-row rates of broken rows (quarantined) and single bad values (set aside)."""

    broken_row: Rate
    bad_value: Rate


class Profile(_Strict):
    """Every rate the generator uses. Field meanings: ``docs/synth.md``."""

    name: str
    description: str
    period_start: dt.date
    period_end: dt.date
    extracted_at: dt.date
    group_mix: dict[str, Rate]
    scenarios: Scenarios
    plants: Plants
    noise: Noise
    wording: Wording
    malformed: Malformed

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if not self.period_start < self.period_end <= self.extracted_at:
            raise ValueError("need period_start < period_end <= extracted_at")
        total = sum(self.group_mix.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"group_mix shares add up to {total:.4f}, not 1")
        return self


def shipped_profiles() -> list[str]:
    """Return the names of the profiles that ship with casebridge."""
    return sorted(path.stem for path in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str) -> Profile:
    """Return the validated profile with this shipped name, or read from this YAML path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(shipped_profiles())
            raise ProfileError(f"unknown profile {name_or_path!r}; shipped profiles: {known}")
    if not path.is_file():
        raise ProfileError(f"profile file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Profile.model_validate(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read it as UTF-8 text ({exc})") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ProfileError(f"{path}: field {where}: {first['msg']}") from exc
