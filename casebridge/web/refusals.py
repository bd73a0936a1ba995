"""What a refused request answers, as the OpenAPI schema describes it.

A 422 has two shapes: a request the schema refuses names each field at fault and why
(``auth/install.py``'s handler, which never echoes what was sent), and a well-formed request a
rule refuses (a casework rule, a password rule, a bad agency) says why in one sentence. The
routes that can answer either declare :data:`UNPROCESSABLE`, so a client (and schemathesis)
can tell both apart from the schema.
"""

from __future__ import annotations

from pydantic import BaseModel


class FieldProblem(BaseModel):
    """One field of a request at fault: where it is, why, and the kind of problem."""

    loc: list[str | int]
    msg: str
    type: str


class Refusal(BaseModel):
    """Why a request was refused: one sentence, or each field at fault."""

    detail: str | list[FieldProblem]


UNPROCESSABLE: dict[int | str, dict[str, object]] = {
    422: {
        "model": Refusal,
        "description": "the request breaks a rule (a sentence says which), or its fields do not "
        "validate (each named, with why; what was sent is never echoed)",
    }
}
