"""Token modes of the command-line client against fake token endpoints over real HTTP(S) on
loopback: Maskinporten (JWT grant, assertion checked with the client's public key), the Altinn
exchange, Entra ID through msal (an HTTPS authority with a certificate made here; client
secret and certificate credentials). The tokens they hand out are then used against the API:
the local host for Maskinporten/Altinn, and a host of this module's own with Entra ID
configured (``shared.entra_tokens``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import stat
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from altinn_corr import errors as exits
from altinn_corr import tokens as cli_tokens
from tests.support.tokens import TokenIssuer, new_private_key

RESOURCE = "ttd-corr-1"
ORG = "991825827"
CLIENT_ID = "5a8b4c2e-0d1f-4e3a-9b7c-6d5e4f3a2b1c"
KEY_ID = "client-key-1"
TENANT = "8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f"
API_AUDIENCE = "api://altinn-correspondence-test"
SECRET = "s3cret-value-for-tests"

Handler = Callable[[dict[str, Any]], tuple[int, Any]]


class FakeServer:
    """A loopback HTTP(S) server: routes by (method, path) to handlers that get the request
    (headers, form, body) and answer (status, JSON object | str)."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.calls: Counter[str] = Counter()
        self.tls = tls
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                path = self.path.split("?", 1)[0]
                owner.calls[f"{method} {path}"] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "form": {k: v[0] for k, v in parse_qs(body.decode()).items()},
                }
                handler = owner.routes.get((method, path))
                status, answer = handler(request) if handler else (404, {"error": "not_found"})
                payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bearer_of(request: dict[str, Any]) -> str | None:
    header = request["headers"].get("authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


def pem_of(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def self_signed(key, common_name: str, ip: str | None = None) -> x509.Certificate:
    import ipaddress

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())


# --- Maskinporten and the Altinn exchange ------------------------------------------------------


@pytest.fixture
def maskinporten(token_issuer, tmp_path: Path):
    """Fake Maskinporten (POST /token) + Altinn exchange, handing out tokens the test API
    trusts. The registered client's key: ``client.pem`` (PEM) and ``client.jwk.json`` (JWK)."""
    client_key = new_private_key()
    (tmp_path / "client.pem").write_text(pem_of(client_key))
    jwk = {**RSAAlgorithm.to_jwk(client_key, as_dict=True), "kid": KEY_ID}
    (tmp_path / "client.jwk.json").write_text(json.dumps(jwk))
    server = FakeServer()
    audience = server.url + "/"
    issued: set[str] = set()
    seen_jti: set[str] = set()

    def token(request: dict[str, Any]) -> tuple[int, Any]:
        form = request["form"]
        if form.get("grant_type") != cli_tokens.JWT_BEARER_GRANT:
            return 400, {"error": "unsupported_grant_type"}
        assertion = form.get("assertion", "")
        if jwt.get_unverified_header(assertion).get("kid") != KEY_ID:
            return 400, {"error": "invalid_client", "error_description": "unknown kid"}
        try:
            claims = jwt.decode(assertion, client_key.public_key(), algorithms=["RS256"], audience=audience,
                                issuer=CLIENT_ID, options={"require": ["exp", "iat", "jti", "aud", "iss"]})
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"assertion: {type(exc).__name__}"}
        if claims["exp"] - claims["iat"] > 120 or claims["jti"] in seen_jti:
            return 400, {"error": "invalid_grant", "error_description": "lifetime or replay"}
        seen_jti.add(claims["jti"])
        access = token_issuer.maskinporten_token(scopes=claims["scope"])
        issued.add(access)
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 120, "scope": claims["scope"]}

    def exchange(request: dict[str, Any]) -> tuple[int, Any]:
        if bearer_of(request) not in issued:
            return 401, {"error": "invalid_token"}
        return 200, token_issuer.altinn_token()

    server.routes[("POST", "/token")] = token
    server.routes[("GET", cli_tokens.EXCHANGE_PATH)] = exchange
    server.client_dir = tmp_path  # type: ignore[attr-defined]
    yield server
    server.stop()


def maskinporten_args(server: FakeServer, key_file: str = "client.pem", key_id: str | None = KEY_ID) -> list[str]:
    args = ["--auth", "maskinporten", "--client-id", CLIENT_ID,
            "--private-key", str(server.client_dir / key_file), "--maskinporten-url", server.url + "/"]  # type: ignore[attr-defined]
    return args + (["--key-id", key_id] if key_id else [])


def test_maskinporten_token_is_granted_cached_and_private(cli, maskinporten) -> None:
    first = cli("token", *maskinporten_args(maskinporten), "--json")
    assert first.exit_code == 0, first.stderr
    body = first.json()
    assert body["mode"] == "maskinporten" and body["fromCache"] is False
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["scope"] == "altinn:correspondence.write altinn:serviceowner"

    again = cli("token", *maskinporten_args(maskinporten), "--json")
    assert again.exit_code == 0
    assert again.json()["fromCache"] is True and again.json()["accessToken"] == body["accessToken"]
    assert maskinporten.calls["POST /token"] == 1

    cache = cli.home / "cache" / "tokens.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache.parent).st_mode) == 0o700

    plain = cli("token", *maskinporten_args(maskinporten), "--no-cache")
    assert plain.exit_code == 0 and plain.stdout.count(".") == 2
    assert maskinporten.calls["POST /token"] == 2


def test_maskinporten_key_as_jwk_names_its_kid(cli, maskinporten) -> None:
    result = cli("token", *maskinporten_args(maskinporten, "client.jwk.json", key_id=None))
    assert result.exit_code == 0, result.stderr


def test_maskinporten_key_from_the_environment(cli, maskinporten) -> None:
    pem = (maskinporten.client_dir / "client.pem").read_text()
    args = ["--auth", "maskinporten", "--client-id", CLIENT_ID, "--key-id", KEY_ID,
            "--maskinporten-url", maskinporten.url + "/"]
    result = cli("token", *args, env={"ALTINN_CORR_PRIVATE_KEY_PEM": pem})
    assert result.exit_code == 0, result.stderr


def test_maskinporten_refusal_is_exit_4_without_secrets(cli, maskinporten, tmp_path: Path) -> None:
    (tmp_path / "wrong.pem").write_text(pem_of(new_private_key()))
    result = cli("token", *maskinporten_args(maskinporten, "wrong.pem"))
    assert result.exit_code == exits.EXIT_AUTH
    assert "invalid_grant" in result.stderr and result.stdout == ""
    assert "PRIVATE KEY" not in result.stderr

    missing = cli("token", "--auth", "maskinporten", "--client-id", CLIENT_ID, env={"ALTINN_CORR_PRIVATE_KEY": None})
    assert missing.exit_code == exits.EXIT_USAGE
    assert "private key" in missing.stderr


def test_maskinporten_and_exchanged_altinn_tokens_work_against_the_api(
    cli, maskinporten, local_app, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("hello")
    for mode in ("maskinporten", "altinn"):
        args = maskinporten_args(maskinporten)
        args[1] = mode
        result = cli("upload", tmp_path / "a.txt", "--resource", RESOURCE, "--base-url", local_app.url,
                     *args, "--altinn-url", maskinporten.url)
        assert result.exit_code == 0, result.stderr
        uuid.UUID(result.stdout.strip())
    assert maskinporten.calls[f"GET {cli_tokens.EXCHANGE_PATH}"] == 1

    token = cli("token", *args, "--altinn-url", maskinporten.url, "--json").json()
    assert token["mode"] == "altinn" and token["fromCache"] is True
    claims = jwt.decode(token["accessToken"], options={"verify_signature": False})
    assert claims["urn:altinn:orgNumber"] == ORG


# --- Entra ID through msal ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    """Fake Entra ID over HTTPS: OIDC discovery and the v2 token endpoint of one tenant. It
    accepts the client secret or a client assertion signed with the client certificate's key,
    and issues v2 app tokens signed with the tenant key (``keys.jwks_path``)."""
    directory = tmp_path_factory.mktemp("entra")
    tls_key = new_private_key()
    tls_cert = self_signed(tls_key, "127.0.0.1", ip="127.0.0.1")
    (directory / "tls.pem").write_bytes(tls_cert.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_text(pem_of(tls_key))
    client_key = new_private_key()
    client_cert = self_signed(client_key, "altinn-corr-test-client")
    cert_pem = client_cert.public_bytes(serialization.Encoding.PEM).decode()
    (directory / "client-cert.pem").write_text(cert_pem + pem_of(client_key))  # certificate + key
    keys = TokenIssuer(directory / "tenant-keys")
    server = FakeServer(tls=(directory / "tls.pem", directory / "tls.key"))
    issuer = f"{server.url}/{TENANT}/v2.0"
    token_endpoint = f"{server.url}/{TENANT}/oauth2/v2.0/token"

    def discovery(request: dict[str, Any]) -> tuple[int, Any]:
        return 200, {
            "issuer": issuer,
            "token_endpoint": token_endpoint,
            "authorization_endpoint": f"{server.url}/{TENANT}/oauth2/v2.0/authorize",
            "jwks_uri": f"{server.url}/{TENANT}/discovery/v2.0/keys",
        }

    def token(request: dict[str, Any]) -> tuple[int, Any]:
        form = request["form"]
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return 400, {"error": "invalid_request"}
        if form.get("scope") != f"{API_AUDIENCE}/.default":
            return 400, {"error": "invalid_scope"}
        if "client_secret" in form:
            if form["client_secret"] != SECRET:
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
        else:
            try:
                jwt.decode(form.get("client_assertion", ""), client_key.public_key(), algorithms=["RS256", "PS256"],
                           audience=token_endpoint, issuer=CLIENT_ID)
            except jwt.PyJWTError:
                return 401, {"error": "invalid_client", "error_description": "bad client assertion"}
        now = int(time.time())
        access = keys.sign({
            "iss": issuer, "aud": API_AUDIENCE, "iat": now, "nbf": now, "exp": now + 3600, "tid": TENANT,
            "azp": CLIENT_ID, "oid": str(uuid.uuid4()), "roles": ["Correspondence.Write"], "ver": "2.0",
        })
        return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": access}

    server.routes[("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration")] = discovery
    server.routes[("POST", f"/{TENANT}/oauth2/v2.0/token")] = token
    server.directory = directory  # type: ignore[attr-defined]
    server.keys = keys  # type: ignore[attr-defined]
    server.issuer = issuer  # type: ignore[attr-defined]
    yield server
    server.stop()


def entra_args(server: FakeServer) -> list[str]:
    return ["--auth", "entra", "--client-id", CLIENT_ID, "--authority", f"{server.url}/{TENANT}",
            "--scope", f"{API_AUDIENCE}/.default"]


def entra_env(server: FakeServer, **extra: str) -> dict[str, str]:
    return {"REQUESTS_CA_BUNDLE": str(server.directory / "tls.pem"), **extra}  # type: ignore[attr-defined]


def test_entra_client_secret(cli, entra) -> None:
    result = cli("token", *entra_args(entra), "--json", env=entra_env(entra, ALTINN_CORR_CLIENT_SECRET=SECRET))
    assert result.exit_code == 0, result.stderr
    claims = jwt.decode(result.json()["accessToken"], options={"verify_signature": False})
    assert claims["azp"] == CLIENT_ID and claims["aud"] == API_AUDIENCE
    assert entra.calls[f"POST /{TENANT}/oauth2/v2.0/token"] >= 1


def test_entra_wrong_secret_is_exit_4_without_the_secret(cli, entra) -> None:
    result = cli("token", *entra_args(entra), env=entra_env(entra, ALTINN_CORR_CLIENT_SECRET="wrong-secret"))
    assert result.exit_code == exits.EXIT_AUTH
    assert "invalid_client" in result.stderr and "wrong-secret" not in result.stderr


def test_entra_needs_a_scope_and_a_credential(cli, entra) -> None:
    args = entra_args(entra)
    no_scope = cli("token", *args[:-2], env=entra_env(entra, ALTINN_CORR_CLIENT_SECRET=SECRET))
    assert no_scope.exit_code == exits.EXIT_USAGE and "--scope" in no_scope.stderr
    no_credential = cli("token", *args, env=entra_env(entra))
    assert no_credential.exit_code == exits.EXIT_USAGE


@pytest.fixture(scope="module")
def entra_app(entra, token_issuer, azurite_connection, tmp_path_factory):
    """A local host that trusts the fake tenant's tokens (and maps the client to ORG)."""
    from tests.support.app import app_settings
    from tests.support.localhost import LocalHost

    settings = {
        **app_settings(token_issuer, azurite_connection),
        "ENTRA_ISSUER": entra.issuer,
        "ENTRA_JWKS": str(entra.keys.jwks_path),
        "ENTRA_AUDIENCE": API_AUDIENCE,
        "ENTRA_ORGANIZATIONS": json.dumps({CLIENT_ID: ORG}),
    }
    log = tmp_path_factory.mktemp("entra-host") / "host.log"
    host = LocalHost(settings, log_path=log)
    host.start()
    yield host
    host.stop()


def test_entra_certificate_token_is_accepted_by_the_api(cli, entra, entra_app, tmp_path: Path) -> None:
    path = tmp_path / "entra.txt"
    path.write_text("uploaded with an Entra ID token")
    certificate = str(entra.directory / "client-cert.pem")
    result = cli("upload", path, "--resource", RESOURCE, "--base-url", entra_app.url, *entra_args(entra),
                 "--certificate", certificate, "--json", env=entra_env(entra))
    assert result.exit_code == 0, result.stderr
    overview = result.json()
    assert overview["status"] == "Published"
    assert overview["sender"].endswith(ORG)

    # the same host refuses a token for another audience
    now = int(time.time())
    stranger = entra.keys.sign({"iss": entra.issuer, "aud": "api://other", "iat": now, "exp": now + 600,
                                "azp": CLIENT_ID, "roles": ["Correspondence.Write"]})
    refused = cli("status", overview["attachmentId"], "--base-url", entra_app.url, "--token", stranger)
    assert refused.exit_code == exits.EXIT_AUTH
    assert "audience" in refused.stderr
