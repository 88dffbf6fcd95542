"""Bearer-token authentication: the token matrix, the caller's organisation, and the HTTP
answers the wrapper gives. Real keys and real signatures throughout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, Callable

import azure.functions as func
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from shared.auth import jwks
from shared.auth import tokens as auth
from shared.api import problems
from shared.core import errors
from shared.api.http import api, json_response
from tests.support.clock import FakeClockFactory
from tests.support.tokens import (
    SERVICE_OWNER_SCOPE,
    WRITE_SCOPE,
    TokenIssuer,
    new_private_key,
    public_pem,
)

pytestmark = pytest.mark.usefixtures("fresh_key_sets")

ORG = "991825827"
INVALID = 'Bearer error="invalid_token"'


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokenIssuer:
    token_issuer = TokenIssuer(tmp_path / "issuer")
    for name, value in token_issuer.env().items():
        monkeypatch.setenv(name, value)
    return token_issuer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 by hand: PyJWT (rightly) refuses to use a PEM public key as an HMAC secret."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _alg_none(claims: dict[str, Any], kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _signed_raw(issuer: TokenIssuer, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """RS256 by hand, for headers and claims PyJWT's encoder (rightly) refuses to produce."""
    head = _b64(json.dumps(header or {"alg": "RS256", "typ": "JWT", "kid": issuer.kid}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = issuer.private_key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64(signature)}"


def _status_of(header: str | None) -> tuple[int, dict[str, str]]:
    """What authenticate's outcome means over HTTP: (status, headers)."""
    try:
        auth.authenticate(header)
    except errors.ProblemError as exc:
        return exc.status, {}
    except Exception as exc:  # noqa: BLE001 - the wrapper maps by attribute, so do we
        status = getattr(exc, "http_status", None)
        if status is None:
            raise
        return status, dict(getattr(exc, "headers", {}) or {})
    return 200, {}


def _bearer(token: str) -> str:
    return f"Bearer {token}"


Case = Callable[[TokenIssuer], "str | None"]
NOW = lambda: int(time.time())  # noqa: E731


# Each case: (id, header maker, expected status, expected WWW-Authenticate or None).
MATRIX: list[tuple[str, Case, int, str | None]] = [
    ("no token", lambda i: None, 401, "Bearer"),
    ("empty header", lambda i: "   ", 401, "Bearer"),
    ("other scheme", lambda i: "Basic dXNlcjpwYXNz", 401, "Bearer"),
    ("bearer without token", lambda i: "Bearer ", 401, "Bearer"),
    ("malformed", lambda i: "Bearer not-a-jwt", 401, INVALID),
    ("malformed three parts", lambda i: "Bearer abc.def.ghi", 401, INVALID),
    ("expired", lambda i: _bearer(i.altinn_token(exp=NOW() - 120)), 401, INVALID),
    ("nbf in the future", lambda i: _bearer(i.altinn_token(nbf=NOW() + 300)), 401, INVALID),
    ("iat in the future", lambda i: _bearer(i.altinn_token(iat=NOW() + 300)), 401, INVALID),
    ("exp missing", lambda i: _bearer(i.altinn_token(exp=None)), 401, INVALID),
    (
        "signed by an untrusted key",
        lambda i: _bearer(i.sign(i.altinn_claims(), key=new_private_key())),
        401,
        INVALID,
    ),
    ("alg none", lambda i: _bearer(_alg_none(i.altinn_claims(), i.kid)), 401, INVALID),
    (
        "HS256 with the public key as secret",
        lambda i: _bearer(_hs256(i.altinn_claims(), public_pem(i.private_key), i.kid)),
        401,
        INVALID,
    ),
    (
        "RS512 with the trusted key",
        lambda i: _bearer(i.sign(i.altinn_claims(), algorithm="RS512")),
        401,
        INVALID,
    ),
    (
        "ES256",
        lambda i: _bearer(i.sign(i.altinn_claims(), key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")),
        401,
        INVALID,
    ),
    (
        "unknown kid",
        lambda i: _bearer(i.sign(i.altinn_claims(), headers={"kid": "no-such-key"})),
        401,
        INVALID,
    ),
    (
        "kid not a string",
        lambda i: _bearer(_signed_raw(i, i.altinn_claims(), {"alg": "RS256", "kid": 5})),
        401,
        INVALID,
    ),
    (
        "wrong issuer",
        lambda i: _bearer(i.altinn_token(iss="https://issuer.example/")),
        401,
        INVALID,
    ),
    (
        "look-alike issuer containing altinn",
        lambda i: _bearer(i.altinn_token(iss="https://altinn.evil.example/authentication/api/v1/openid/")),
        401,
        INVALID,
    ),
    (
        "trusted issuer as a prefix",
        lambda i: _bearer(i.altinn_token(iss=i.altinn_issuer + "evil")),
        401,
        INVALID,
    ),
    (
        "issuer as a list",
        lambda i: _bearer(_signed_raw(i, {**i.altinn_claims(), "iss": [i.altinn_issuer]})),
        401,
        INVALID,
    ),
    (
        "read scope only",
        lambda i: _bearer(i.altinn_token(scopes="altinn:correspondence.read")),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE}"',
    ),
    (
        "altinn:correspondence.writex",
        lambda i: _bearer(i.altinn_token(scopes="altinn:correspondence.writex altinn:serviceowner")),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE}"',
    ),
    (
        "scope claim missing",
        lambda i: _bearer(i.altinn_token(scope=None)),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE}"',
    ),
    (
        "scope claim as a list",
        lambda i: _bearer(i.altinn_token(scope=[WRITE_SCOPE])),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE}"',
    ),
    (
        "Maskinporten without altinn:serviceowner",
        lambda i: _bearer(i.maskinporten_token(scopes=WRITE_SCOPE)),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}"',
    ),
    (
        "Maskinporten with serviceowner only",
        lambda i: _bearer(i.maskinporten_token(scopes=SERVICE_OWNER_SCOPE)),
        403,
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}"',
    ),
    ("valid Altinn token", lambda i: _bearer(i.altinn_token()), 200, None),
    ("valid Altinn token, signed by hand", lambda i: _bearer(_signed_raw(i, i.altinn_claims())), 200, None),
    ("valid Altinn token, lower-case scheme", lambda i: "bearer " + i.altinn_token(), 200, None),
    ("valid Maskinporten token", lambda i: _bearer(i.maskinporten_token()), 200, None),
    ("expired within the leeway", lambda i: _bearer(i.altinn_token(exp=NOW() - 10)), 200, None),
    ("nbf within the leeway", lambda i: _bearer(i.altinn_token(nbf=NOW() + 10)), 200, None),
    (
        "scopes among others, any order",
        lambda i: _bearer(i.maskinporten_token(scopes=f"openid {SERVICE_OWNER_SCOPE}  {WRITE_SCOPE}")),
        200,
        None,
    ),
    (
        "no kid, one key in the set",
        lambda i: _bearer(jwt.encode(i.altinn_claims(), i.private_key, algorithm="RS256")),
        200,
        None,
    ),
]


@pytest.mark.parametrize(
    ("make_header", "status", "challenge"),
    [pytest.param(maker, status, challenge, id=name) for name, maker, status, challenge in MATRIX],
)
def test_token_matrix(issuer: TokenIssuer, make_header: Case, status: int, challenge: str | None) -> None:
    actual_status, headers = _status_of(make_header(issuer))
    assert actual_status == status
    if challenge is not None:
        assert headers["WWW-Authenticate"] == challenge
    else:
        assert "WWW-Authenticate" not in headers


def test_valid_altinn_token_gives_the_caller(issuer: TokenIssuer) -> None:
    caller = auth.authenticate(_bearer(issuer.altinn_token(org="310000000")))
    assert caller == auth.Caller(
        organization="310000000",
        issuer=issuer.altinn_issuer,
        scopes=frozenset({WRITE_SCOPE}),
        token_kind="altinn",
    )


def test_valid_maskinporten_token_gives_the_caller(issuer: TokenIssuer) -> None:
    caller = auth.authenticate(_bearer(issuer.maskinporten_token()))
    assert caller.token_kind == "maskinporten"
    assert caller.issuer == issuer.maskinporten_issuer
    assert caller.organization == ORG
    assert caller.scopes == frozenset({WRITE_SCOPE, SERVICE_OWNER_SCOPE})


def test_altinn_issuer_is_not_a_maskinporten_issuer(issuer: TokenIssuer) -> None:
    """A Maskinporten-style token must carry the Maskinporten issuer to be one."""
    token = issuer.maskinporten_token(scopes=WRITE_SCOPE, iss=issuer.altinn_issuer)
    assert auth.authenticate(_bearer(token)).token_kind == "altinn"


def test_unconfigured_issuer_is_not_trusted(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASKINPORTEN_ISSUER")
    assert _status_of(_bearer(issuer.maskinporten_token()))[0] == 401


# --- the caller's organisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        pytest.param({"consumer": {"authority": "iso6523-actorid-upis", "ID": "0192:310000000"}}, "310000000", id="consumer object"),
        pytest.param({"consumer": json.dumps({"ID": "0192:310000000"})}, "310000000", id="consumer JSON string"),
        pytest.param({"consumer": {"ID": "310000000"}}, "310000000", id="consumer without prefix"),
        pytest.param({"urn:altinn:orgNumber": "310000000"}, "310000000", id="orgNumber claim"),
        pytest.param(
            {"consumer": {"ID": "0192:310000000"}, "urn:altinn:orgNumber": "991825827"},
            "310000000",
            id="consumer wins over orgNumber",
        ),
        pytest.param(
            {"consumer": {"ID": "0208:0123456789"}, "urn:altinn:orgNumber": "310000000"},
            "310000000",
            id="foreign consumer falls back to orgNumber",
        ),
    ],
)
def test_organization_claims(issuer: TokenIssuer, claims: dict[str, Any], expected: str) -> None:
    token = issuer.altinn_token(org=None, **claims)
    assert auth.authenticate(_bearer(token)).organization == expected


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"client_id": "991825827"}, id="client_id only"),
        pytest.param({}, id="no organisation claim"),
        pytest.param({"consumer": "not json"}, id="consumer not JSON"),
        pytest.param({"consumer": {"ID": "0192:12345"}}, id="consumer ID not 9 digits"),
        pytest.param({"urn:altinn:orgNumber": "99182582\n"}, id="orgNumber with trailing newline"),
    ],
)
def test_no_organization_is_4006(issuer: TokenIssuer, claims: dict[str, Any]) -> None:
    token = issuer.altinn_token(org=None, **claims)
    with pytest.raises(errors.ProblemError) as raised:
        auth.authenticate(_bearer(token))
    assert raised.value.entry is errors.COULD_NOT_DETERMINE_CALLER


def test_scope_is_checked_before_the_organisation(issuer: TokenIssuer) -> None:
    """Upstream's policy (403) runs before its handler could fail with 4006."""
    token = issuer.altinn_token(org=None, scopes="altinn:correspondence.read")
    assert _status_of(_bearer(token))[0] == 403


# --- key set problems are ours: 503 ------------------------------------------------------


def test_missing_key_set_file_is_503(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALTINN_TOKEN_JWKS", str(tmp_path / "missing.json"))
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 503


def test_corrupt_key_set_file_is_503(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"keys": "nope"')
    monkeypatch.setenv("ALTINN_TOKEN_JWKS", str(corrupt))
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 503


def test_key_set_without_rsa_keys_is_503(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hmac_only = tmp_path / "oct.json"
    hmac_only.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": issuer.kid}]}))
    monkeypatch.setenv("ALTINN_TOKEN_JWKS", str(hmac_only))
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 503


def test_trusted_issuer_without_key_set_setting_is_503(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALTINN_TOKEN_JWKS")
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 503


def test_rotated_key_in_a_file_is_picked_up(issuer: TokenIssuer, fake_clock: FakeClockFactory) -> None:
    clock = fake_clock(jwks)
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 200
    issuer.rotate()
    # The file key set is re-read on an unknown kid at most once a second: not yet, then yes.
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 401
    clock.advance(jwks.UNKNOWN_KID_REFETCH_SECONDS_FILE)
    assert _status_of(_bearer(issuer.altinn_token()))[0] == 200


# --- through the HTTP wrapper ------------------------------------------------------------


@api(consumes=None)
def whoami(ctx) -> func.HttpResponse:
    return json_response({"organization": ctx.caller.organization, "kind": ctx.caller.token_kind})


def _call(authorization: str | None) -> func.HttpResponse:
    headers = {} if authorization is None else {"Authorization": authorization}
    return whoami(func.HttpRequest("GET", "http://localhost/whoami", headers=headers, body=b""))


def _problem(response: func.HttpResponse) -> dict[str, Any]:
    assert response.mimetype == problems.PROBLEM_JSON
    return json.loads(response.get_body())


def test_wrapper_passes_a_valid_token(issuer: TokenIssuer) -> None:
    response = _call(_bearer(issuer.maskinporten_token()))
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"organization": ORG, "kind": "maskinporten"}


def test_wrapper_missing_token_is_401(issuer: TokenIssuer) -> None:
    response = _call(None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert _problem(response)["status"] == 401


def test_wrapper_invalid_token_is_401_without_token_or_claims(issuer: TokenIssuer) -> None:
    token = issuer.altinn_token(org="310000000", exp=NOW() - 3600)
    response = _call(_bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID
    body = response.get_body().decode()
    problem = json.loads(body)
    assert problem["status"] == 401 and "expired" in problem["detail"]
    for secret in (token, token.split(".")[1], "310000000", issuer.altinn_issuer):
        assert secret not in body


def test_wrapper_insufficient_scope_is_403(issuer: TokenIssuer) -> None:
    response = _call(_bearer(issuer.maskinporten_token(scopes=WRITE_SCOPE)))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}"'
    )
    assert _problem(response)["status"] == 403


def test_wrapper_no_organisation_is_401_4006(issuer: TokenIssuer) -> None:
    response = _call(_bearer(issuer.altinn_token(org=None, client_id=ORG)))
    assert response.status_code == 401
    problem = _problem(response)
    assert problem["errorCode"] == 4006
    assert problem["code"] == "CORR-04006"


def test_wrapper_key_set_outage_is_503_with_retry_after(
    issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALTINN_TOKEN_JWKS", str(tmp_path / "missing.json"))
    response = _call(_bearer(issuer.altinn_token()))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert _problem(response)["status"] == 503
