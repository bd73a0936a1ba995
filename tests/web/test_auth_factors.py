"""Passwords (argon2id, the policy, one-time passwords) and TOTP codes, checked against
RFC 9106's parameters and RFC 6238's published test vectors."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from casebridge.web.auth import passwords, totp
from casebridge.web.auth.passwords import PasswordPolicyError, check_password_policy
from tests.web.support import FAST_HASHER

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" (ASCII), in base32
RFC_6238_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
# Unix time -> the 8-digit TOTP of Appendix B; six-digit codes are its last six digits
RFC_6238_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def test_the_service_hashes_with_argon2id_at_rfc_9106_low_memory() -> None:
    stored = passwords.hash_password(passwords.default_hasher(), "correct horse battery")
    # RFC 9106 section 4, second recommended option: 64 MiB, 3 passes, 4 lanes
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = passwords.hash_password(FAST_HASHER, "correct horse battery")
    assert passwords.verify_password(FAST_HASHER, stored, "correct horse battery")
    assert not passwords.verify_password(FAST_HASHER, stored, "correct horse batterY")
    assert not passwords.verify_password(FAST_HASHER, None, "correct horse battery")
    assert not passwords.verify_password(FAST_HASHER, "not a hash", "correct horse battery")


def test_a_hash_with_other_parameters_needs_renewing() -> None:
    stored = passwords.hash_password(FAST_HASHER, "correct horse battery")
    assert not passwords.needs_rehash(FAST_HASHER, stored)
    assert passwords.needs_rehash(PasswordHasher(time_cost=2, memory_cost=1024), stored)


def test_the_dummy_hash_has_the_hasher_s_parameters() -> None:
    assert passwords.dummy_hash(FAST_HASHER).startswith("$argon2id$v=19$m=1024,t=1,p=1$")


@given(st.text(max_size=passwords.MINIMUM_LENGTH - 1))
def test_a_password_shorter_than_twelve_characters_is_refused(password: str) -> None:
    with pytest.raises(PasswordPolicyError, match="at least 12 characters"):
        check_password_policy(password, "someone")


@given(st.text(min_size=12, max_size=passwords.MAXIMUM_LENGTH))
def test_a_long_enough_password_that_is_not_the_username_is_accepted(password: str) -> None:
    username = "x" + password[:10]
    check_password_policy(password, username)


@pytest.mark.parametrize("password", ["j.okafor.2026", " J.OKAFOR.2026 "])
def test_the_username_is_not_a_password(password: str) -> None:
    with pytest.raises(PasswordPolicyError, match="may not be the account's username"):
        check_password_policy(password, "j.okafor.2026")


def test_an_endless_password_is_refused() -> None:
    with pytest.raises(PasswordPolicyError, match="at most 256"):
        check_password_policy("a" * 257, "someone")


def test_one_time_passwords_meet_the_policy_and_differ() -> None:
    made = {passwords.one_time_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_password_policy(password, "someone")
        assert not set(password) & set("0O1lI")


@pytest.mark.parametrize(("seconds", "rfc_code"), RFC_6238_VECTORS)
def test_codes_match_rfc_6238(seconds: int, rfc_code: str) -> None:
    step = totp.time_step(_at(seconds))
    assert totp.code_for_step(RFC_6238_SECRET, step) == rfc_code[-6:]
    assert totp.accepted_step(RFC_6238_SECRET, rfc_code[-6:], None, _at(seconds)) == step


def test_a_code_from_the_next_or_previous_step_is_accepted_but_not_further() -> None:
    at = _at(1111111111)
    step = totp.time_step(at)
    for offset in (-1, 1):
        code = totp.code_for_step(RFC_6238_SECRET, step + offset)
        assert totp.accepted_step(RFC_6238_SECRET, code, None, at) == step + offset
    for offset in (-2, 2):
        code = totp.code_for_step(RFC_6238_SECRET, step + offset)
        assert totp.accepted_step(RFC_6238_SECRET, code, None, at) is None


def test_a_code_is_not_accepted_at_or_before_the_last_accepted_step() -> None:
    at = _at(1234567890)
    step = totp.time_step(at)
    code = totp.code_for_step(RFC_6238_SECRET, step)
    assert totp.accepted_step(RFC_6238_SECRET, code, step, at) is None
    assert totp.accepted_step(RFC_6238_SECRET, code, step - 1, at) == step
    earlier = totp.code_for_step(RFC_6238_SECRET, step - 1)
    assert totp.accepted_step(RFC_6238_SECRET, earlier, step - 1, at) is None


@given(st.text(max_size=12))
def test_anything_but_six_digits_is_refused(typed: str) -> None:
    code = totp.code_for_step(RFC_6238_SECRET, totp.time_step(_at(59)))
    if "".join(typed.split()) != code:
        assert totp.accepted_step(RFC_6238_SECRET, typed, None, _at(59)) is None


def test_spaces_inside_a_code_are_ignored() -> None:
    assert totp.accepted_step(RFC_6238_SECRET, "287 082", None, _at(59)) == 1


def test_a_new_secret_is_160_bits_and_its_uri_names_the_service() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and secret.isalnum()
    uri = totp.provisioning_uri(secret, "r.adeyemi")
    assert uri.startswith("otpauth://totp/casebridge:r.adeyemi?secret=" + secret)
    assert "issuer=casebridge" in uri
