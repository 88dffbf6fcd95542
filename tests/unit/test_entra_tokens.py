"""Entra ID access tokens as the third trusted issuer: real keys made here, real signatures,
the settings patched into the environment (shared.entra_tokens)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from shared.auth import tokens as auth
from shared.auth import entra as entra_tokens
from shared.core import errors
from shared.api.http import api, json_response
from tests.support.tokens import TokenIssuer, new_private_key

ORG = "991825827"
OTHER_ORG = "310000000"
TENANT = "7d1b3a9e-2c4f-4b8e-9a61-0f2d5c8e4b13"
APP_ID = "0a8e4c2f-5b1d-4e7a-8c3f-9d6b2a1e7f40"
OBJECT_ID = "5f3c1e2a-8d4b-4c6e-a7f9-1b2d3e4f5a6b"
V2_ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
V1_ISSUER = f"https://sts.windows.net/{TENANT}/"
AUDIENCE = "api://altinn-correspondence-test"
AUDIENCE_CLIENT_ID = "3c9d1f7e-0b2a-4d5c-8e6f-7a1b2c3d4e5f"
ROLE = "Correspondence.Write"
INVALID = 'Bearer error="invalid_token"'
ENTRA_SETTINGS = (
    "ENTRA_TENANT_ID",
    "ENTRA_ISSUER",
    "ENTRA_JWKS",
    "ENTRA_AUDIENCE",
    "ENTRA_WRITE_ROLE",
    "ENTRA_ORGANIZATIONS",
)


@pytest.fixture(autouse=True)
def fresh_caches(fresh_key_sets: None) -> None:
    entra_tokens._organizations.cache_clear()


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokenIssuer:
    """The Altinn/Maskinporten settings (as every deployment has) plus a tenant's key set."""
    altinn = TokenIssuer(tmp_path / "altinn")
    for name, value in altinn.env().items():
        monkeypatch.setenv(name, value)
    for name in ENTRA_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return TokenIssuer(tmp_path / "entra")


@pytest.fixture
def entra(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> TokenIssuer:
    """Entra ID configured by tenant id, with the tenant's keys from a file."""
    monkeypatch.setenv("ENTRA_TENANT_ID", TENANT)
    monkeypatch.setenv("ENTRA_JWKS", str(keys.jwks_path))
    monkeypatch.setenv("ENTRA_AUDIENCE", f"{AUDIENCE} {AUDIENCE_CLIENT_ID}")
    monkeypatch.setenv("ENTRA_ORGANIZATIONS", json.dumps({APP_ID: ORG}))
    return keys


def claims(version: int = 2, **overrides: Any) -> dict[str, Any]:
    """An app-only (client credentials) access token's claims, as Entra ID issues them."""
    now = int(time.time())
    body: dict[str, Any] = {
        "aud": AUDIENCE if version == 1 else AUDIENCE_CLIENT_ID,
        "iss": V1_ISSUER if version == 1 else V2_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": TENANT,
        "oid": OBJECT_ID,
        "sub": OBJECT_ID,
        "roles": [ROLE],
        "idtyp": "app",
        "ver": "1.0" if version == 1 else "2.0",
        "uti": uuid.uuid4().hex,
    }
    body["appid" if version == 1 else "azp"] = APP_ID
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def bearer(issuer: TokenIssuer, body: dict[str, Any], **sign_args: Any) -> str:
    return f"Bearer {issuer.sign(body, **sign_args)}"


def outcome(header: str) -> tuple[int, Any]:
    """(status, Caller | WWW-Authenticate | errorCode) as the HTTP wrapper would answer."""
    try:
        return 200, auth.authenticate(header)
    except errors.ProblemError as exc:
        return exc.status, exc.entry.error_code
    except Exception as exc:  # noqa: BLE001 - the wrapper maps by attribute, so do we
        status = getattr(exc, "http_status", None)
        if status is None:
            raise
        return status, (getattr(exc, "headers", {}) or {}).get("WWW-Authenticate")


# --- accepted ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_app_token_of_a_mapped_client_is_accepted(entra: TokenIssuer, version: int) -> None:
    status, caller = outcome(bearer(entra, claims(version)))
    assert status == 200
    assert caller == auth.Caller(
        organization=ORG,
        issuer=V1_ISSUER if version == 1 else V2_ISSUER,
        scopes=frozenset({auth.WRITE_SCOPE}),
        token_kind="entra",
    )


def test_delegated_scope_grants_write_as_a_whole_word(entra: TokenIssuer) -> None:
    body = claims(roles=None, scp=f"User.Read {ROLE}")
    assert outcome(bearer(entra, body))[0] == 200


def test_mapping_by_object_id_and_case_insensitive_ids(entra: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_ORGANIZATIONS", json.dumps({OBJECT_ID.upper(): OTHER_ORG}))
    status, caller = outcome(bearer(entra, claims()))
    assert status == 200 and caller.organization == OTHER_ORG


def test_client_id_mapping_wins_over_object_id(entra: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_ORGANIZATIONS", json.dumps({OBJECT_ID: OTHER_ORG, APP_ID: ORG}))
    assert outcome(bearer(entra, claims()))[1].organization == ORG


def test_explicit_issuer_and_custom_role(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = "https://login.microsoftonline.us/some-tenant/v2.0"
    monkeypatch.setenv("ENTRA_ISSUER", issuer)
    monkeypatch.setenv("ENTRA_JWKS", str(keys.jwks_path))
    monkeypatch.setenv("ENTRA_AUDIENCE", AUDIENCE_CLIENT_ID)
    monkeypatch.setenv("ENTRA_WRITE_ROLE", "Send")
    monkeypatch.setenv("ENTRA_ORGANIZATIONS", json.dumps({APP_ID: ORG}))
    assert outcome(bearer(keys, claims(iss=issuer, roles=["Send"])))[0] == 200
    assert outcome(bearer(keys, claims(iss=issuer)))[0] == 403  # Correspondence.Write is not Send
    # the tenant's default issuers are not trusted when ENTRA_ISSUER names others
    assert outcome(bearer(keys, claims(roles=["Send"])))[0] == 401


def test_altinn_and_maskinporten_tokens_are_unaffected(entra: TokenIssuer, tmp_path: Path) -> None:
    altinn = TokenIssuer(tmp_path / "altinn")
    assert outcome(f"Bearer {altinn.altinn_token()}")[1].token_kind == "altinn"
    assert outcome(f"Bearer {altinn.maskinporten_token()}")[1].token_kind == "maskinporten"


def test_tenant_default_key_set_url(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_TENANT_ID", TENANT.upper())
    monkeypatch.setenv("ENTRA_AUDIENCE", AUDIENCE)
    config = entra_tokens.config()
    assert config.issuers == {V1_ISSUER, V2_ISSUER}
    assert config.jwks_source == f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"
    assert config.write_role == ROLE and config.organizations == {}


# --- refused -----------------------------------------------------------------------------


REFUSED: list[tuple[str, dict[str, Any], dict[str, Any], int, Any]] = [
    # (id, claim overrides, sign args, status, WWW-Authenticate or errorCode)
    ("wrong audience", {"aud": "api://another-app"}, {}, 401, INVALID),
    ("audience of another app in a list", {"aud": ["api://another-app"]}, {}, 401, INVALID),
    ("no audience", {"aud": None}, {}, 401, INVALID),
    ("expired", {"exp": int(time.time()) - 3600}, {}, 401, INVALID),
    ("no exp", {"exp": None}, {}, 401, INVALID),
    ("issuer with an extra slash", {"iss": V2_ISSUER + "/"}, {}, 401, INVALID),
    ("another tenant", {"iss": "https://login.microsoftonline.com/common/v2.0"}, {}, 401, INVALID),
    ("unknown kid", {}, {"headers": {"kid": "nope"}}, 401, INVALID),
    ("signed by another key", {}, {"key": new_private_key()}, 401, INVALID),
    ("RS512", {}, {"algorithm": "RS512"}, 401, INVALID),
    ("no role", {"roles": None}, {}, 403, f'Bearer error="insufficient_scope", scope="{ROLE}"'),
    ("role in another case", {"roles": [ROLE.lower()]}, {}, 403, f'Bearer error="insufficient_scope", scope="{ROLE}"'),
    ("longer role", {"roles": [ROLE + "All"]}, {}, 403, f'Bearer error="insufficient_scope", scope="{ROLE}"'),
    ("roles as a string", {"roles": ROLE}, {}, 403, f'Bearer error="insufficient_scope", scope="{ROLE}"'),
    ("role as part of a scope word", {"roles": None, "scp": f"x{ROLE}"}, {}, 403,
     f'Bearer error="insufficient_scope", scope="{ROLE}"'),
    ("unmapped client", {"azp": str(uuid.uuid4()), "oid": str(uuid.uuid4())}, {}, 401, 4006),
    ("organisation claims are ignored",
     {"azp": str(uuid.uuid4()), "oid": None, "urn:altinn:orgNumber": ORG,
      "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{ORG}"}}, {}, 401, 4006),
    ("no client or object id", {"azp": None, "oid": None}, {}, 401, 4006),
]


@pytest.mark.parametrize(("overrides", "sign_args", "status", "detail"),
                         [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_refused(entra: TokenIssuer, overrides: dict[str, Any], sign_args: dict[str, Any], status: int, detail: Any) -> None:
    assert outcome(bearer(entra, claims(**overrides), **sign_args)) == (status, detail)


def test_entra_issuer_is_untrusted_when_not_configured(keys: TokenIssuer) -> None:
    assert outcome(bearer(keys, claims())) == (401, INVALID)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ENTRA_AUDIENCE", None),
        ("ENTRA_AUDIENCE", " , "),
        ("ENTRA_ORGANIZATIONS", "not json"),
        ("ENTRA_ORGANIZATIONS", json.dumps([APP_ID])),
        ("ENTRA_ORGANIZATIONS", json.dumps({APP_ID: "12345"})),
        ("ENTRA_ORGANIZATIONS", json.dumps({APP_ID: 991825827})),
        ("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"),
    ],
)
def test_misconfiguration_is_503_and_names_the_setting(
    entra: TokenIssuer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, setting: str, value: str | None
) -> None:
    if setting == "ENTRA_TENANT_ID":
        monkeypatch.setenv("ENTRA_ISSUER", V2_ISSUER)  # the issuer still matches; the tenant id is bad
        monkeypatch.delenv("ENTRA_JWKS")
    if value is None:
        monkeypatch.delenv(setting)
    else:
        monkeypatch.setenv(setting, value)
    status, _ = outcome(bearer(entra, claims()))
    assert status == 503
    assert setting in caplog.text
    if value and len(value) > 8:
        assert value not in caplog.text


def test_issuer_without_key_set_or_tenant_is_503(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_ISSUER", V2_ISSUER)
    monkeypatch.setenv("ENTRA_AUDIENCE", AUDIENCE_CLIENT_ID)
    assert outcome(bearer(keys, claims()))[0] == 503


# --- through the HTTP wrapper ------------------------------------------------------------


@api(consumes=None)
def whoami(ctx) -> func.HttpResponse:
    return json_response({"organization": ctx.caller.organization, "kind": ctx.caller.token_kind})


def _call(token: str) -> func.HttpResponse:
    return whoami(func.HttpRequest("GET", "http://localhost/whoami", headers={"Authorization": token}, body=b""))


def test_wrapper_answers(entra: TokenIssuer, caplog: pytest.LogCaptureFixture) -> None:
    ok = _call(bearer(entra, claims()))
    assert ok.status_code == 200
    assert json.loads(ok.get_body()) == {"organization": ORG, "kind": "entra"}

    unmapped = _call(bearer(entra, claims(azp=str(uuid.uuid4()), oid=None)))
    assert unmapped.status_code == 401
    assert json.loads(unmapped.get_body())["errorCode"] == 4006

    token = entra.sign(claims(roles=["Other"]))
    forbidden = _call(f"Bearer {token}")
    assert forbidden.status_code == 403
    assert forbidden.headers["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{ROLE}"'
    body = forbidden.get_body().decode()
    for secret in (token, token.split(".")[1], APP_ID, TENANT):
        assert secret not in body
        assert secret not in caplog.text


# --- the malware-scan webhook's Entra ID delivery authentication (optional) ----------------

WEBHOOK_AUDIENCE = "api://altinn-correspondence-webhook"
WEBHOOK_ROLE = "AzureEventGridSecureWebhookSubscriber"
HANDSHAKE = json.dumps(
    [{"id": "1", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "data": {"validationCode": "abc"}}]
).encode()


def deliver(authorization: str | None) -> func.HttpResponse:
    """The webhook's function with Event Grid's validation handshake (needs no storage)."""
    from tests.support.functions import call

    headers = {"Content-Type": "application/json", **({"Authorization": authorization} if authorization else {})}
    return call("malware_scan_result", method="POST", raw_body=HANDSHAKE, headers=headers).raw


def event_grid_claims(**overrides: Any) -> dict[str, Any]:
    return claims(**{"aud": WEBHOOK_AUDIENCE, "roles": [WEBHOOK_ROLE], **overrides})


def test_without_a_webhook_audience_the_function_key_alone_guards_the_webhook(entra: TokenIssuer) -> None:
    assert deliver(None).status_code == 200


def test_with_a_webhook_audience_event_grids_token_is_required(entra: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_AUDIENCE", WEBHOOK_AUDIENCE)
    assert deliver(bearer(entra, event_grid_claims())).status_code == 200
    assert deliver(None).status_code == 401
    assert deliver(bearer(entra, event_grid_claims(aud=AUDIENCE))).status_code == 401  # the API's audience
    assert deliver(bearer(entra, event_grid_claims(roles=[ROLE]))).status_code == 403  # not the webhook role
    assert deliver(bearer(entra, event_grid_claims(iss="https://login.microsoftonline.com/other/v2.0"))).status_code == 401
    other_key = TokenIssuer(entra.directory.parent / "stranger")
    assert deliver(bearer(other_key, event_grid_claims())).status_code == 401  # not the tenant's key
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_ROLE", ROLE)
    assert deliver(bearer(entra, event_grid_claims(roles=[ROLE]))).status_code == 200


def test_a_webhook_audience_without_a_tenant_is_a_deployment_error(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_AUDIENCE", WEBHOOK_AUDIENCE)
    response = deliver(bearer(keys, event_grid_claims()))
    assert response.status_code == 503


def test_the_webhook_tenant_alone_checks_event_grid_without_trusting_its_callers(
        keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment sets MALWARE_SCAN_WEBHOOK_TENANT_ID, not ENTRA_TENANT_ID: Event Grid's
    token is checked, and the API still trusts no Entra ID caller."""
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_AUDIENCE", WEBHOOK_AUDIENCE)
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_TENANT_ID", TENANT)
    monkeypatch.setenv("ENTRA_JWKS", str(keys.jwks_path))  # the tenant's keys, from a file
    assert deliver(bearer(keys, event_grid_claims())).status_code == 200
    assert deliver(bearer(keys, event_grid_claims(iss="https://login.microsoftonline.com/other/v2.0"))).status_code == 401
    assert entra_tokens.issuers() == frozenset()  # no Entra ID caller is trusted


def test_a_webhook_tenant_that_is_not_a_guid_is_a_deployment_error(keys: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_AUDIENCE", WEBHOOK_AUDIENCE)
    monkeypatch.setenv("MALWARE_SCAN_WEBHOOK_TENANT_ID", "contoso.onmicrosoft.com")
    assert deliver(bearer(keys, event_grid_claims())).status_code == 503
