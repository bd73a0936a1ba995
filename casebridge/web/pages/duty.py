"""The duty-to-report pages: the form a professional files a report of child sexual abuse
with, its receipt, and the list of reports an account may see (docs/pages.md,
"Duty-to-report intake").

The form is a plain HTML form: it works without scripts, and "Add another person" posts it back
to itself with one more row for a person of concern (the typed values kept). A report the
rules refuse comes back as the same form, status 422, every value refilled and each message
beside its field, with a list of the problems at the top linking to them. Filing and reading go
through :class:`~casebridge.web.duty_access.DutyReports` (scope, masking, the trail), the
same as the API's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from casebridge.web.duty_access import DutyReports
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import Permission, Requires
from casebridge.web.routes.duty import Reference, duty_reports
from casebridge.web.services.duty_schemas import (
    HOW_WORDS,
    PERSONS_LIMIT,
    SETTING_WORDS,
    SEX_WORDS,
    DutyReportIn,
)

router = APIRouter(include_in_schema=False)
Reports = Annotated[DutyReports, Depends(duty_reports)]

REPORTER_FIELDS = ("name", "role", "organisation", "setting", "phone", "email")
CHILD_FIELDS = ("forenames", "surname", "date_of_birth", "age", "sex", "postcode")
PERSON_FIELDS = ("forenames", "surname", "date_of_birth", "age", "sex", "relationship")
REPORT_FIELDS = ("how", "disclosure", "disclosed_on", "reported_on", "delay_reason")
FORM_FIELDS = (
    *(f"reporter_{name}" for name in REPORTER_FIELDS),
    *(f"child_{name}" for name in CHILD_FIELDS),
    *REPORT_FIELDS,
)
# what a form field is called in the list of problems at the top of the form
LABELS = {
    "reporter_name": "Your name", "reporter_role": "Your role",
    "reporter_organisation": "Your organisation", "reporter_setting": "Your setting",
    "reporter_phone": "Your telephone", "reporter_email": "Your email",
    "child_forenames": "The child's forenames", "child_surname": "The child's surname",
    "child_date_of_birth": "The child's date of birth", "child_age": "The child's age",
    "child_sex": "The child's sex", "child_postcode": "The child's postcode",
    "how": "How you know", "disclosure": "What was disclosed or seen",
    "disclosed_on": "Date of the disclosure or sighting", "reported_on": "Date of this report",
    "delay_reason": "Why the report comes later",
    "forenames": "forenames", "surname": "surname", "date_of_birth": "date of birth",
    "age": "age", "sex": "sex", "relationship": "relationship to the child",
}  # fmt: skip
# pydantic's error types in words a reporter acts on (our own rules say theirs: value_error)
MESSAGES = {
    "missing": "This is needed.",
    "string_too_short": "This is needed.",
    "string_too_long": "This is too long.",
    "literal_error": "Choose one of the options.",
    "date_from_datetime_parsing": "Give a date as year-month-day, such as 2026-03-01.",
    "date_parsing": "Give a date as year-month-day, such as 2026-03-01.",
    "date_from_datetime_inexact": "Give a date without a time.",
    "int_parsing": "Give a whole number of years.",
    "greater_than_equal": "Give an age of 0 or more.",
    "less_than_equal": "The duty is about children under 18: give an age under 18.",
    "too_long": f"At most {PERSONS_LIMIT} people can be named in one report.",
}


@dataclass
class DutyForm:
    """The form as sent back: its values, rows of people of concern, and the problems."""

    values: dict[str, str] = field(default_factory=dict)
    persons: list[dict[str, str]] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    # the form row of each person of concern in the body (blank rows are left out)
    rows: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, form: FormData) -> DutyForm:
        sent = cls()
        for name in FORM_FIELDS:
            sent.values[name] = _text(form.get(name))
        columns = {f: form.getlist(f"concern_{f}") for f in PERSON_FIELDS}
        count = min(max((len(c) for c in columns.values()), default=0), PERSONS_LIMIT + 1)
        for row in range(count):
            person = {f: _text(c[row]) if row < len(c) else "" for f, c in columns.items()}
            sent.persons.append(person)
        return sent

    def body(self) -> dict[str, Any]:
        """The report as the API takes it: blanks left out (a blank is no answer)."""
        v = self.values
        people = []
        for row, person in enumerate(self.persons):
            given = {f: value for f, value in person.items() if value and f != "sex"}
            if given:
                people.append({**given, "sex": person["sex"] or "unknown"})
                self.rows.append(row)
        return {
            "reporter": _given(v, "reporter_", REPORTER_FIELDS),
            "child": _given(v, "child_", CHILD_FIELDS),
            "persons_of_concern": people,
            **{name: v[name] for name in REPORT_FIELDS if v[name]},
        }

    def refuse(self, error: ValidationError) -> None:
        """Note each problem beside its field (the first for a field wins)."""
        for problem in error.errors():
            name = self._field(problem["loc"])
            if problem["type"] == "value_error":
                text = str(problem["msg"]).removeprefix("Value error, ")
                message = text[:1].upper() + text[1:] + "."
            else:
                message = MESSAGES.get(problem["type"], "Check this.")
            self.problems.setdefault(name, message)

    def _field(self, loc: tuple[int | str, ...]) -> str:
        """The form field a problem's location names."""
        if loc and loc[0] == "persons_of_concern":
            if len(loc) >= 3 and isinstance(loc[1], int) and loc[1] < len(self.rows):
                return f"concern_{loc[2]}-{self.rows[loc[1]]}"
            return "persons_of_concern"
        if len(loc) >= 2 and loc[0] in ("reporter", "child"):
            return f"{loc[0]}_{loc[1]}"
        return str(loc[0]) if loc else "form"

    def label(self, name: str) -> str:
        """A problem's field in words: "Person 2: surname"."""
        if name.startswith("concern_"):
            column, _, row = name.removeprefix("concern_").rpartition("-")
            return f"Person of concern {int(row) + 1}: {LABELS.get(column, column)}"
        return LABELS.get(name, "The people of concern")


def _text(value: object) -> str:
    return value.strip()[:25_000] if isinstance(value, str) else ""


def _given(values: dict[str, str], prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    return {name: values[prefix + name] for name in names if values[prefix + name]}


async def form_data(request: Request) -> FormData:
    """The request's form (read once; the CSRF check has already parsed it)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def form_page(request: Request, sent: DutyForm, status_code: int = 200) -> Response:
    rows = sent.persons or [dict.fromkeys(PERSON_FIELDS, "")]
    return _pages(request).render(
        request,
        "duty_form.html",
        {
            "form": sent,
            "v": dict.fromkeys(FORM_FIELDS, "") | sent.values,
            "rows": rows,
            "settings": SETTING_WORDS,
            "sexes": SEX_WORDS,
            "hows": HOW_WORDS,
            "limit": PERSONS_LIMIT,
        },  # fmt: skip
        status_code=status_code,
    )


@router.get("/duty-reports/new", dependencies=[Depends(Requires(Permission.FILE_DUTY_REPORT))])
def new_report(request: Request) -> Response:
    """The form for a report under the mandatory duty to report child sexual abuse."""
    return form_page(request, DutyForm())


@router.post("/duty-reports", dependencies=[Depends(Requires(Permission.FILE_DUTY_REPORT))])
def file_report(request: Request, form: Form, reports: Reports) -> Response:
    """File the report (and go to its receipt), add a row for another person of concern, or
    show the form again with what to correct (422)."""
    sent = DutyForm.read(form)
    if form.get("action") == "add_person":
        blank = dict.fromkeys(PERSON_FIELDS, "")
        sent.persons = (sent.persons or [blank]) + ([blank] if len(sent.persons) < PERSONS_LIMIT
                                                     else [])  # fmt: skip
        return form_page(request, sent)
    try:
        report = DutyReportIn.model_validate(sent.body())
    except ValidationError as error:
        sent.refuse(error)
        return form_page(request, sent, status.HTTP_422_UNPROCESSABLE_CONTENT)
    filed = reports.file(report)
    return RedirectResponse(
        f"/duty-reports/{filed.reference}?filed=1", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/duty-reports", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def list_reports(request: Request, reports: Reports) -> Response:
    """The reports this account may see: references and routes, newest first."""
    return _pages(request).render(request, "duty_list.html", {"reports": reports.listed()})


@router.get("/duty-reports/{reference}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_report(request: Request, reference: Reference, reports: Reports) -> Response:
    """A report's receipt and what it says, for its filer and the force it went to."""
    detail = reports.read(reference)
    return _pages(request).render(
        request,
        "duty_receipt.html",
        {
            "detail": detail,
            "just_filed": request.query_params.get("filed") == "1",
            "settings": SETTING_WORDS,
            "sexes": SEX_WORDS,
            "hows": HOW_WORDS,
        },  # fmt: skip
    )
