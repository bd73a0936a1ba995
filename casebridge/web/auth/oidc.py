"""OIDC sign-in for agencies with their own identity provider (docs/service.md, "OIDC").

Off unless the provider's discovery URL, the client id and the callback URL are configured
(``CASEBRIDGE_OIDC_METADATA_URL``, ``CASEBRIDGE_OIDC_CLIENT_ID``,
``CASEBRIDGE_OIDC_REDIRECT_URL``; the secret in ``CASEBRIDGE_OIDC_CLIENT_SECRET``). The
authorization-code flow with PKCE, through authlib: the provider's signed ID token names a
subject, which must be an active account's ``oidc_subject`` (an unknown subject is refused;
accounts are never made from a token). The provider stands in for the password only: the
account still enters its TOTP code.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from casebridge.errors import CasebridgeError
from casebridge.web.auth.text import printable
from casebridge.web.config import ServiceSettings
from casebridge.web.models import Account

SECRET_VARIABLE = "CASEBRIDGE_OIDC_CLIENT_SECRET"
# how far the provider's clock may be from ours
LEEWAY_SECONDS = 60
TIMEOUT_SECONDS = 10
SIGNING_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]


class OidcError(CasebridgeError):
    """Raised when the identity provider cannot be reached or its answer does not verify."""


def oidc_configured(settings: ServiceSettings) -> bool:
    """Whether OIDC sign-in is configured (all three settings given)."""
    return bool(
        settings.oidc_metadata_url and settings.oidc_client_id and settings.oidc_redirect_url
    )


@dataclass(frozen=True)
class PendingSignIn:
    """What a browser keeps between leaving for the provider and coming back: the state that
    ties the answer to this browser, the nonce the ID token must carry, PKCE's verifier."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> PendingSignIn:
        """Three fresh random values."""
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    def cookie_value(self) -> str:
        """The three values as one cookie (they hold no '.')."""
        return f"{self.state}.{self.nonce}.{self.code_verifier}"

    @classmethod
    def from_cookie(cls, value: str | None) -> PendingSignIn | None:
        """The pending sign-in a cookie holds, or None."""
        parts = (value or "").split(".")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)


class OidcClient(Protocol):
    """The two things casebridge asks of an identity provider."""

    def authorization_url(self, pending: PendingSignIn) -> str:
        """Where to send the browser to sign in."""
        ...

    def subject(self, code: str, pending: PendingSignIn) -> str:
        """The verified subject of the ID token that ``code`` is exchanged for."""
        ...


def subject_of_id_token(
    id_token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, nonce: str
) -> str:
    """The subject of an ID token whose signature, issuer, audience, expiry and nonce verify.

    Raises OidcError otherwise.
    """
    from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]

    try:
        keys: KeySetSerialization = {"keys": list(jwks.get("keys") or [])}
        token = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=SIGNING_ALGORITHMS)
        options = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
        }
        claims = CodeIDToken(
            token.claims, token.header, options, {"nonce": nonce, "client_id": client_id}
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError) as error:
        raise OidcError(
            f"the identity provider's ID token does not verify ({type(error).__name__})"
        ) from None
    subject = token.claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise OidcError("the identity provider's ID token names no subject")
    return subject


def account_for_subject(db: Session, subject: str) -> Account | None:
    """The active account the provider's subject is mapped to; None for an unknown subject."""
    try:
        printable(subject)
    except ValueError:
        return None
    return db.scalars(
        select(Account).where(Account.oidc_subject == subject, Account.active.is_(True))
    ).first()


class AuthlibClient:
    """An identity provider reached with authlib (its requests client), found through its
    discovery document, which is read at the first sign-in and kept."""

    def __init__(self, settings: ServiceSettings) -> None:
        metadata_url = settings.oidc_metadata_url
        client_id = settings.oidc_client_id
        redirect_url = settings.oidc_redirect_url
        if not (metadata_url and client_id and redirect_url):
            raise OidcError(
                "OIDC needs CASEBRIDGE_OIDC_METADATA_URL, CASEBRIDGE_OIDC_CLIENT_ID and "
                "CASEBRIDGE_OIDC_REDIRECT_URL; set all three or none"
            )
        self.metadata_url = metadata_url
        self.client_id = client_id
        self.redirect_url = redirect_url
        self._metadata: dict[str, Any] | None = None

    def _session(self) -> Any:
        from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
            OAuth2Session,
        )

        return OAuth2Session(
            self.client_id,
            os.environ.get(SECRET_VARIABLE),
            scope="openid",
            redirect_uri=self.redirect_url,
            code_challenge_method="S256",
        )

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with self._session() as session:
                answer = session.get(url, timeout=TIMEOUT_SECONDS, withhold_token=True)
                answer.raise_for_status()
                found = answer.json()
        except (OSError, ValueError):
            # requests' errors are OSErrors; a body that is not JSON is a ValueError
            raise OidcError("the identity provider could not be reached") from None
        if not isinstance(found, dict):
            raise OidcError("the identity provider's answer is not a JSON object")
        return found

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document."""
        if self._metadata is None:
            self._metadata = self._get_json(self.metadata_url)
        return self._metadata

    def authorization_url(self, pending: PendingSignIn) -> str:
        """The provider's sign-in page, with state, nonce and PKCE's challenge."""
        with self._session() as session:
            url, _state = session.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.code_verifier,
            )
        return str(url)

    def subject(self, code: str, pending: PendingSignIn) -> str:
        """Exchange ``code`` for tokens and return the verified ID token's subject."""
        metadata = self.metadata()
        try:
            with self._session() as session:
                token = session.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=pending.code_verifier,
                    timeout=TIMEOUT_SECONDS,
                )
        except (OSError, ValueError, AuthlibBaseError):
            raise OidcError("the identity provider did not exchange the code") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider gave no ID token")
        return subject_of_id_token(
            id_token,
            self._get_json(metadata["jwks_uri"]),
            issuer=str(metadata["issuer"]),
            client_id=self.client_id,
            nonce=pending.nonce,
        )
