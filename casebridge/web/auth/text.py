"""Text a client sends to the sign-in and accounts routes: refused before it reaches argon2 or
the database if it cannot be stored (a NUL, a lone surrogate from a JSON escape)."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator


def storable(text: str) -> str:
    """``text``, if it has no NUL and no lone surrogate (PostgreSQL and UTF-8 refuse both)."""
    if "\x00" in text or any(0xD800 <= ord(character) <= 0xDFFF for character in text):
        raise ValueError("text may not hold NUL characters or unpaired surrogates")
    return text


def printable(text: str) -> str:
    """``text``, if it is storable and has no control characters (names, agencies, subjects)."""
    if any(unicodedata.category(character) == "Cc" for character in storable(text)):
        raise ValueError("text may not hold control characters")
    return text


# a password or username as typed
StorableText = Annotated[str, AfterValidator(storable)]
# a display name, an agency, an identity provider's subject
PrintableText = Annotated[str, AfterValidator(printable)]
