"""The second factor: time-based one-time codes (RFC 6238, 30-second steps, six digits).

A code is accepted in the step it was made for or one step either side (clocks drift), and
never twice: the account keeps the step of the last code it accepted, and only a later step
is accepted after it.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

ISSUER = "casebridge"
STEP_SECONDS = 30
DIGITS = 6
# steps either side of now that a code may come from
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (shown once, as text or a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def time_step(at: dt.datetime) -> int:
    """The 30-second step ``at`` falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int) -> str:
    """The code ``secret`` gives in ``step`` (what an authenticator app shows then)."""
    return pyotp.TOTP(secret).generate_otp(step)


def accepted_step(secret: str, code: str, last_step: int | None, at: dt.datetime) -> int | None:
    """The step ``code`` matches near ``at``, if later than ``last_step``; else None.

    >>> import datetime as dt
    >>> at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> secret = "JBSWY3DPEHPK3PXP"
    >>> accepted_step(secret, code_for_step(secret, time_step(at)), None, at) == time_step(at)
    True
    """
    typed = "".join(code.split())
    if len(typed) != DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    now = time_step(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_for_step(secret, step), typed):
            return step
    return None
