"""OIDC sign-in, offline: off by default, the ID token's checks (with a key made here), the
subject-to-account mapping, and the callback with a stand-in provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select, update

from casebridge.web.app import create_app
from casebridge.web.auth import oidc
from casebridge.web.auth.install import install_sign_in
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, TrailEntry
from casebridge.web.permissions import api_routes
from tests.web.support import closing, current_code, make_account

ISSUER = "https://idp.force.example"
CLIENT_ID = "casebridge-review"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def signing_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "test-key"})


def _id_token(key: ECKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        **changes,
    }
    return jwt.encode({"alg": "ES256", "kid": "test-key"}, claims, key)


def _jwks(key: ECKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False)]}


def _subject(token: str, key: ECKey) -> str:
    return oidc.subject_of_id_token(
        token, _jwks(key), issuer=ISSUER, client_id=CLIENT_ID, nonce=NONCE
    )


def test_oidc_is_off_by_default_and_its_routes_absent(service_settings: ServiceSettings) -> None:
    assert not oidc.oidc_configured(service_settings)
    with closing(create_app(service_settings)) as app, TestClient(app) as client:
        assert not [r for r in api_routes(app.routes) if "/oidc/" in r.path]
        assert client.get("/api/auth/oidc/start").status_code == 404
        assert client.get("/api/auth/oidc/callback?code=x&state=y").status_code == 404


def test_oidc_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, service_settings: ServiceSettings
) -> None:
    monkeypatch.setenv("CASEBRIDGE_OIDC_METADATA_URL", f"{ISSUER}/.well-known/openid-configuration")
    monkeypatch.setenv("CASEBRIDGE_OIDC_CLIENT_ID", CLIENT_ID)
    settings = type(service_settings).model_validate(
        {"workspace": service_settings.workspace, "database_url": service_settings.database_url}
    )
    assert settings.oidc_client_id == CLIENT_ID
    assert not oidc.oidc_configured(settings)  # the callback URL is still missing
    monkeypatch.setenv(
        "CASEBRIDGE_OIDC_REDIRECT_URL", "https://review.example/api/auth/oidc/callback"
    )
    settings = settings.model_validate(settings.model_dump(exclude={"oidc_redirect_url"}))
    assert oidc.oidc_configured(settings)


def test_a_half_configured_oidc_refuses_to_start(service_settings: ServiceSettings) -> None:
    half = service_settings.model_copy(update={"oidc_client_id": CLIENT_ID})
    with pytest.raises(oidc.OidcError, match="set all three or none"):
        install_sign_in(FastAPI(), half)


def test_a_valid_id_token_gives_its_subject(signing_key: ECKey) -> None:
    assert _subject(_id_token(signing_key), signing_key) == "248289761001"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://elsewhere.example"},
        {"aud": "another-client"},
        {"nonce": "replayed"},
        {"exp": int(time.time()) - 3600},
        {"sub": ""},
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(
    signing_key: ECKey, changes: dict[str, Any]
) -> None:
    with pytest.raises(oidc.OidcError):
        _subject(_id_token(signing_key, **changes), signing_key)


def test_an_id_token_signed_with_another_key_is_refused(signing_key: ECKey) -> None:
    other = ECKey.generate_key("P-256", parameters={"kid": "test-key"})
    with pytest.raises(oidc.OidcError):
        _subject(_id_token(other), signing_key)


def test_a_pending_sign_in_survives_its_cookie_and_a_bad_cookie_is_none() -> None:
    pending = oidc.PendingSignIn.new()
    assert oidc.PendingSignIn.from_cookie(pending.cookie_value()) == pending
    for bad in (None, "", "a.b", "a..c", "a.b.c.d"):
        assert oidc.PendingSignIn.from_cookie(bad) is None


class StandInProvider:
    """An identity provider that vouches for one subject, for the callback's tests."""

    def __init__(self, subject: str) -> None:
        self.subject_given = subject
        self.pending: oidc.PendingSignIn | None = None

    def authorization_url(self, pending: oidc.PendingSignIn) -> str:
        self.pending = pending
        return f"{ISSUER}/authorize?state={pending.state}"

    def subject(self, code: str, pending: oidc.PendingSignIn) -> str:
        if code != "good-code" or pending != self.pending:
            raise oidc.OidcError("the code does not exchange")
        return self.subject_given


@pytest.fixture
def configured(service_settings: ServiceSettings) -> ServiceSettings:
    return service_settings.model_copy(
        update={
            "oidc_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
            "oidc_client_id": CLIENT_ID,
            "oidc_redirect_url": "http://testserver/api/auth/oidc/callback",
        }
    )


@pytest.fixture
def app(configured: ServiceSettings) -> Iterator[FastAPI]:
    with closing(create_app(configured)) as made:
        assert isinstance(made.state.oidc_client, oidc.AuthlibClient)
        made.state.oidc_client = StandInProvider("248289761001")
        yield made


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def _start(client: TestClient) -> str:
    answer = client.get("/api/auth/oidc/start")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{ISSUER}/authorize")
    assert "SameSite=lax" in answer.headers["set-cookie"]
    return parse_qs(urlsplit(answer.headers["location"]).query)["state"][0]


def test_a_known_subject_gets_a_session_that_still_needs_its_code(
    app: FastAPI, client: TestClient
) -> None:
    username, _password, secret = make_account(app, "reviewer", ["Westvale Police"])
    with transaction(app.state.sessions) as db:
        db.execute(update(Account).values(oidc_subject="248289761001"))
    state = _start(client)
    answer = client.get(f"/api/auth/oidc/callback?code=good-code&state={state}")
    assert answer.status_code == 200
    assert 'http-equiv="refresh"' in answer.text
    session = client.get("/api/auth/session").json()
    assert session["stage"] == "second_factor"
    assert client.get("/api/me").status_code == 401
    headers = {"X-CSRF-Token": session["csrf_token"]}
    client.post("/api/auth/second-factor", json={"code": current_code(secret)}, headers=headers)
    assert client.get("/api/me").json()["username"] == username


def test_an_unknown_subject_is_refused_and_trailed_without_it(
    app: FastAPI, client: TestClient
) -> None:
    make_account(app, "reviewer", [])
    state = _start(client)
    answer = client.get(f"/api/auth/oidc/callback?code=good-code&state={state}")
    assert answer.status_code == 401
    assert client.get("/api/auth/session").json()["stage"] is None
    with transaction(app.state.sessions) as db:
        entry = db.scalars(select(TrailEntry).order_by(TrailEntry.seq.desc())).first()
    assert entry is not None and entry.action == "sign_in.failed"
    assert entry.reason == "oidc_subject" and entry.subject_ids == "[]"


def test_a_callback_with_another_state_or_no_cookie_is_refused(
    app: FastAPI, client: TestClient
) -> None:
    _start(client)
    assert client.get("/api/auth/oidc/callback?code=good-code&state=forged").status_code == 400
    client.cookies.clear()
    assert client.get("/api/auth/oidc/callback?code=good-code&state=x").status_code == 400


def test_a_code_the_provider_does_not_exchange_or_none_is_refused(client: TestClient) -> None:
    state = _start(client)
    answer = client.get(f"/api/auth/oidc/callback?code=bad-code&state={state}")
    assert answer.status_code == 401
    denied = client.get(f"/api/auth/oidc/callback?error=access_denied&state={state}")
    assert denied.status_code == 401


def test_the_authlib_client_asks_for_a_code_with_pkce_state_and_nonce(
    configured: ServiceSettings,
) -> None:
    client = oidc.AuthlibClient(configured)
    # the discovery document as a provider publishes it (OpenID Connect Discovery 1.0, 3)
    client._metadata = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
    }
    pending = oidc.PendingSignIn.new()
    url = urlsplit(client.authorization_url(pending))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
    assert query["response_type"] == "code" and query["scope"] == "openid"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == configured.oidc_redirect_url
    assert query["state"] == pending.state and query["nonce"] == pending.nonce
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] and pending.code_verifier not in url.query
