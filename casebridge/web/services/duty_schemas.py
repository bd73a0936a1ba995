"""A duty report as a professional files it (the form's and the API's body) and as it is read
back: who reports and from which setting, the child, the people of concern, what was disclosed
or seen, when, and any delay with why.

The duty (Crime and Policing Bill, 2025): a person in a relevant activity with children who is
told of, or sees, a child sex offence reports it to the police or the local authority, naming
the people believed involved, as soon as practicable; up to 7 days' delay is allowed where
reporting at once would put the child at risk. A report filed late is still taken: a delay
beyond the next day needs its reason, and is shown, never refused.

Each rule is checked on the field it is about, so a message can stand beside that field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from casebridge.web.services.duty_routing import parse_postcode
from casebridge.web.services.schemas import Text

Setting = Literal[
    "education", "early_years", "health", "social_care", "police", "sport_and_leisure",
    "faith", "voluntary", "other",
]  # fmt: skip
SETTING_WORDS: dict[str, str] = {
    "education": "School, college or education", "early_years": "Early years or childcare",
    "health": "Health", "social_care": "Social care", "police": "Police",
    "sport_and_leisure": "Sport, leisure or activities", "faith": "Faith organisation",
    "voluntary": "Voluntary or community organisation", "other": "Another setting",
}  # fmt: skip
Sex = Literal["female", "male", "other", "unknown"]
SEX_WORDS: dict[str, str] = {
    "female": "Female", "male": "Male", "other": "Other", "unknown": "Not known",
}  # fmt: skip
How = Literal["told", "witnessed"]
HOW_WORDS: dict[str, str] = {
    "told": "I was told of it (a disclosure)", "witnessed": "I saw it or saw signs of it",
}  # fmt: skip
NAME_LIMIT = 200
DISCLOSURE_LIMIT = 20_000
PERSONS_LIMIT = 20
CHILD_AGE_LIMIT = 17
# a report made later than the day after the disclosure says why (the duty: "as soon as
# practicable"); the Bill allows up to 7 days where reporting at once would put the child at risk
PROMPT_DAYS = 1
ALLOWED_DELAY_DAYS = 7
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

Name = Annotated[Text, Field(min_length=1, max_length=NAME_LIMIT)]
OptionalName = Annotated[Text | None, Field(default=None, max_length=NAME_LIMIT)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _not_future(value: dt.date | None) -> dt.date | None:
    if value is not None and value > dt.date.today():
        raise ValueError("this date is in the future")
    return value


class ReporterIn(_In):
    """The professional making the report and their setting."""

    name: Name
    role: Annotated[Text, Field(min_length=1, max_length=NAME_LIMIT, description="e.g. teacher")]
    organisation: Name
    setting: Setting
    phone: Annotated[Text | None, Field(default=None, max_length=40)]
    email: Annotated[Text | None, Field(default=None, max_length=254, validate_default=True)]

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not PHONE.match(value):
            raise ValueError("give a telephone number of digits (spaces, brackets, + allowed)")
        return value or None

    @field_validator("email")
    @classmethod
    def _contact(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not EMAIL.match(value):
            raise ValueError("give an email address such as name@school.example")
        if not value and not info.data.get("phone"):
            raise ValueError("give a telephone number or an email address to contact you on")
        return value or None


def _at_least_one_name(surname: str | None, info: ValidationInfo, whose: str) -> str | None:
    if not surname and not info.data.get("forenames"):
        raise ValueError(f"give {whose} name: forenames, surname or both")
    return surname or None


class ChildIn(_In):
    """The child: a name, a birth date or an age (under 18), sex and postcode."""

    forenames: OptionalName
    surname: Annotated[Text | None, Field(default=None, max_length=NAME_LIMIT,
                                          validate_default=True)]  # fmt: skip
    date_of_birth: dt.date | None = None
    age: Annotated[int | None, Field(default=None, ge=0, le=CHILD_AGE_LIMIT,
                                     validate_default=True)]  # fmt: skip
    sex: Sex = "unknown"
    postcode: Annotated[Text | None, Field(default=None, max_length=12)]

    @field_validator("surname")
    @classmethod
    def _named(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _at_least_one_name(value, info, "the child's")

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: dt.date | None) -> dt.date | None:
        _not_future(value)
        # under 18, with a year's grace for a report about a child who has turned 18 since
        if value is not None and (dt.date.today() - value).days > 19 * 366:
            raise ValueError("the duty is about children under 18: check the birth date")
        return value

    @field_validator("age")
    @classmethod
    def _aged(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("date_of_birth") is None:
            raise ValueError("give the child's birth date or, if you do not know it, their age")
        return value

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if not value:
            return None
        parsed = parse_postcode(value)
        if parsed is None:
            raise ValueError("give a UK postcode such as SW1A 1AA, or leave it blank")
        return parsed.text


class PersonOfConcernIn(_In):
    """Someone the reporter believes involved: a name, an age or birth date, and how they are
    related to the child."""

    forenames: OptionalName
    surname: Annotated[Text | None, Field(default=None, max_length=NAME_LIMIT,
                                          validate_default=True)]  # fmt: skip
    date_of_birth: dt.date | None = None
    age: Annotated[int | None, Field(default=None, ge=0, le=120)]
    sex: Sex = "unknown"
    relationship: Annotated[
        Text,
        Field(min_length=1, max_length=NAME_LIMIT, description="to the child, e.g. stepfather"),
    ]

    @field_validator("surname")
    @classmethod
    def _named(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _at_least_one_name(value, info, "their")

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: dt.date | None) -> dt.date | None:
        return _not_future(value)


class DutyReportIn(_In):
    """A report under the mandatory duty to report child sexual abuse."""

    reporter: ReporterIn
    child: ChildIn
    persons_of_concern: Annotated[list[PersonOfConcernIn], Field(max_length=PERSONS_LIMIT)] = []
    how: How
    disclosure: Annotated[Text, Field(min_length=1, max_length=DISCLOSURE_LIMIT,
                                      description="what was disclosed or seen")]  # fmt: skip
    disclosed_on: dt.date
    reported_on: Annotated[dt.date, Field(default_factory=dt.date.today, validate_default=True)]
    delay_reason: Annotated[Text | None, Field(default=None, max_length=DISCLOSURE_LIMIT,
                                               validate_default=True)]  # fmt: skip

    @field_validator("disclosed_on")
    @classmethod
    def _disclosed(cls, value: dt.date) -> dt.date:
        _not_future(value)
        return value

    @field_validator("reported_on")
    @classmethod
    def _reported(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        _not_future(value)
        disclosed = info.data.get("disclosed_on")
        if disclosed is not None and value < disclosed:
            raise ValueError("the report cannot come before what it reports")
        return value

    @field_validator("delay_reason")
    @classmethod
    def _delay(cls, value: str | None, info: ValidationInfo) -> str | None:
        disclosed, reported = info.data.get("disclosed_on"), info.data.get("reported_on")
        late = disclosed is not None and reported is not None and (
            (reported - disclosed).days > PROMPT_DAYS)  # fmt: skip
        if late and not value:
            raise ValueError("the report comes more than a day after the disclosure: say why")
        return value or None

    @property
    def delay_days(self) -> int:
        """Days between the disclosure (or sight) and the report."""
        return (self.reported_on - self.disclosed_on).days


class DutyReceipt(BaseModel):
    """What filing a report gives back: its reference and where it went."""

    model_config = ConfigDict(frozen=True)

    reference: str
    filed_at: dt.datetime
    force: str | None = Field(description="the police force it was routed to; null: unrouted")
    routed: bool
    postcode_district: str | None
    delay_days: int
    beyond_allowed_delay: bool = Field(
        description=f"reported more than {ALLOWED_DELAY_DAYS} days after the disclosure"
    )


class DutyReportSummary(BaseModel):
    """One report in a list: no names, only its reference, time and route."""

    model_config = ConfigDict(frozen=True)

    reference: str
    filed_at: dt.datetime
    force: str | None
    routed: bool
    filed_by_me: bool


class DutyReportDetail(DutyReceipt):
    """A report as filed, for its filer and its force; the child's identifying details are
    null (and named in ``masked``) for a role that may not read victims' details."""

    filed_by: int
    report: DutyReportIn
    masked: list[str] = []
