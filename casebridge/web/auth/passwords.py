"""Passwords: argon2id hashes, the policy a new password must meet, and one-time passwords."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from casebridge.errors import CasebridgeError

MINIMUM_LENGTH = 12
# long enough for any passphrase, short enough that hashing it costs nothing unusual
MAXIMUM_LENGTH = 256
# one-time passwords: no 0/O, 1/l/I, so that one read aloud or copied by hand survives
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ONE_TIME_GROUPS = 4
ONE_TIME_GROUP_LENGTH = 5


class PasswordPolicyError(CasebridgeError):
    """Raised when a new password does not meet the policy; the message says which rule."""


def default_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's second recommended (low-memory) profile: 64 MiB, 3 passes."""
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def check_password_policy(password: str, username: str) -> None:
    """Refuse a password shorter than 12 characters, absurdly long, or that is the username.

    >>> check_password_policy("correct horse battery", "a.reviewer")
    """
    if len(password) < MINIMUM_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MINIMUM_LENGTH} characters")
    if len(password) > MAXIMUM_LENGTH:
        raise PasswordPolicyError(f"a password may have at most {MAXIMUM_LENGTH} characters")
    if password.strip().casefold() == username.strip().casefold():
        raise PasswordPolicyError("a password may not be the account's username")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """The argon2id hash of ``password`` (its salt and parameters inside)."""
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; an account without a password never does,
    but the time taken is the same as for a wrong password."""
    try:
        return hasher.verify(stored_hash or dummy_hash(hasher), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: PasswordHasher, stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the hasher's."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher.hash(secrets.token_urlsafe(16))


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password with ``hasher``'s parameters: verifying against it for an
    unknown username costs what a wrong password costs, so timing tells nothing."""
    return _dummy_hash(hasher.time_cost, hasher.memory_cost, hasher.parallelism)


def one_time_password() -> str:
    """A random password to be changed at the next sign-in, e.g. ``Hk3tq-8WmzR-...``."""
    groups = (
        "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_GROUP_LENGTH))
        for _ in range(ONE_TIME_GROUPS)
    )
    return "-".join(groups)
