"""Which values identify a victim, and how they are masked for roles that do not need them.

A record is *protected* when it is involved in any event as a victim or as the child subject of
a social-care episode (:data:`PROTECTED_ROLES`); a person is protected when any of their records
is. For a role without ``Permission.READ_VICTIM_DETAILS`` a protected record's identifying
values (names, aliases, birth date and age, address, postcode, phone, email, identifiers, and an
event's free-text detail) are null and named in ``masked``; its ids, sex, ethnicity, nationality
and age band stay. Masking is by list of what may stay shown where a value's kind is open-ended
(the compared values of a pair): a new column is masked until someone decides otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casebridge.web.services.schemas import FieldValue

PROTECTED_ROLES = ("victim", "subject")
# the ages at which the Sexual Offences Act 2003 changes what an offence against a child is
# (ss 5-8 under 13, ss 9-15 under 16, ss 47-50 under 18)
AGE_BANDS = ((13, "under 13"), (16, "13 to 15"), (18, "16 to 17"))
ADULT_BAND = "18 and over"


@dataclass(frozen=True)
class FieldSpec:
    """A field as the API shows it: the raw column, the standardised column, and whether the
    value identifies the person (masked for a protected record)."""

    field: str
    raw: str | None
    value: str | None
    identifying: bool


def _spec(field: str, raw: str | None, value: str | None, identifying: bool) -> FieldSpec:
    return FieldSpec(field, raw, value, identifying)


RECORD_FIELDS = (
    _spec("full_name", "full_name_raw", None, True),
    _spec("forenames", "forenames_raw", "forename", True),
    _spec("middle_names", None, "middle_names", True),
    _spec("surname", "surname_raw", "surname", True),
    _spec("date_of_birth", "dob_raw", "date_of_birth", True),
    _spec("dob_precision", None, "dob_precision", False),
    _spec("approx_age", None, "approx_age", True),
    _spec("sex", "sex_raw", "sex", False),
    _spec("ethnicity_self", "ethnicity_self_raw", "ethnicity_self", False),
    _spec("ethnicity_officer", "ethnicity_officer_raw", "ethnicity_officer", False),
    _spec("nationality", "nationality_raw", "nationality", False),
    _spec("address", None, "address", True),
    _spec("town", None, "town", True),
    _spec("postcode", "postcode_raw", "postcode", True),
    _spec("postcode_precision", None, "postcode_precision", False),
    _spec("postal_code", None, "postal_code", True),
    _spec("country", "country_raw", "country", False),
    _spec("phone", "phone_raw", "phone", True),
    _spec("email", None, "email", True),
)
ROW_FIELDS = (
    _spec("local_id", "local_id_raw", "local_id", False),
    _spec("role", "role_raw", "role", False),
    _spec("full_name", "full_name_raw", None, True),
    _spec("forenames", "forenames_raw", "forename", True),
    _spec("middle_names", None, "middle_names", True),
    _spec("surname", "surname_raw", "surname", True),
    _spec("aliases", "aliases_raw", None, True),
    _spec("date_of_birth", "date_of_birth_raw", "date_of_birth", True),
    _spec("approx_age", "approx_age_raw", "approx_age", True),
    _spec("sex", "sex_raw", "sex", False),
    _spec("ethnicity_self", "ethnicity_self_raw", "ethnicity_self", False),
    _spec("ethnicity_officer", "ethnicity_officer_raw", "ethnicity_officer", False),
    _spec("nationality", "nationality_raw", "nationality", False),
    _spec("address", "address_raw", None, True),
    _spec("town", "town_raw", None, True),
    _spec("postcode", "postcode_raw", "postcode", True),
    _spec("postal_code", None, "postal_code", True),
    _spec("country", "country_raw", "country", False),
    _spec("phone", "phone_raw", "phone", True),
    _spec("email", "email_raw", "email", True),
)
EVENT_FIELDS = (
    _spec("kind", None, "kind", False),
    _spec("event_date", "event_date_raw", "event_date", False),
    _spec("offence", "offence_raw", "offence_code", False),
    _spec("soa_section", None, "soa_section", False),
    _spec("penetrative", "penetrative_raw", "is_penetrative", False),
    _spec("outcome", "outcome_raw", "outcome_code", False),
    _spec("outcome_date", "outcome_date_raw", "outcome_date", False),
    _spec("cse_flag", "cse_flag_raw", "cse_flag", False),
    # free text written by people: it may name anyone, so it is masked with a victim's details
    _spec("detail", "detail", None, True),
)
PERSON_IDENTIFYING = ("forename", "surname", "date_of_birth", "postcode")
# a pair's compared values that never identify a person; every other one is masked
PAIR_SHOWN = frozenset({"sex", "source", "dedupe", "surname_title"})


def as_text(value: object) -> str | None:
    """A value as the API gives it in a field: text, a date in ISO form, or null."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(str(part) for part in value)
    return str(value)


def field_values(
    row: Mapping[str, Any], specs: Sequence[FieldSpec], hide: bool
) -> tuple[list[FieldValue], list[str]]:
    """The row's fields, raw beside standardised; with ``hide``, identifying ones are null and
    their names returned as masked (only those that held a value)."""
    shown: list[FieldValue] = []
    masked: list[str] = []
    for spec in specs:
        raw = as_text(row.get(spec.raw)) if spec.raw else None
        value = as_text(row.get(spec.value)) if spec.value else None
        if raw is None and value is None:
            continue
        if hide and spec.identifying:
            masked.append(spec.field)
            shown.append(FieldValue(field=spec.field))
        else:
            shown.append(FieldValue(field=spec.field, raw=raw, value=value))
    return shown, masked


def age_band(age: int | None) -> str | None:
    """The band of an age (Sexual Offences Act 2003 thresholds), or None when unknown.

    >>> age_band(14)
    '13 to 15'
    """
    if age is None:
        return None
    for below, band in AGE_BANDS:
        if age < below:
            return band
    return ADULT_BAND


def masked_values(
    row: Mapping[str, Any], fields: Sequence[str], hide: bool
) -> tuple[dict[str, Any], list[str]]:
    """``row`` with ``fields`` set to None when ``hide`` (those that held a value named)."""
    if not hide:
        return dict(row), []
    masked = [name for name in fields if row.get(name) is not None]
    return {**row, **dict.fromkeys(fields)}, masked
