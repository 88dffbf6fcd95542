"""Bearer tokens: Maskinporten JWT grant (optionally exchanged for an Altinn token), Entra ID
client credentials (msal), or a local development token. Cached in a 0600 file until shortly
before they expire.

Nothing here prints or logs a token, a key or a secret; error messages carry the token
endpoint's ``error``/``error_description`` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from altinn_corr.errors import TokenError, UsageProblem

MODES = ("dev", "maskinporten", "altinn", "entra")
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
WRITE_SCOPE = "altinn:correspondence.write"
SERVICE_OWNER_SCOPE = "altinn:serviceowner"
DEFAULT_MASKINPORTEN_SCOPE = f"{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}"
DEFAULT_MASKINPORTEN_URL = "https://test.maskinporten.no/"
DEFAULT_ALTINN_URL = "https://platform.tt02.altinn.no"
EXCHANGE_PATH = "/authentication/api/v1/exchange/maskinporten"
DEFAULT_ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_DEV_ISSUER = "http://localhost/altinn-dev-token/"
DEFAULT_ORG = "991825827"
# Maskinporten accepts assertions valid for at most 120 seconds.
ASSERTION_LIFETIME = 120
DEV_TOKEN_LIFETIME = 3600
# A cached token is used until this long before it expires (or a quarter of its lifetime,
# whichever is less: Maskinporten tokens may live only two minutes).
EXPIRY_MARGIN = 60
HTTP_TIMEOUT = 30


@dataclass
class TokenOptions:
    mode: str = "dev"
    token: str | None = None  # used as is; no mode applies
    client_id: str | None = None
    key_id: str | None = None
    private_key: str | None = None  # path: PEM or JWK (dev mode: the dev signing key)
    private_key_pem: str | None = None  # the key itself (env ALTINN_CORR_PRIVATE_KEY_PEM)
    scope: str | None = None
    maskinporten_url: str = DEFAULT_MASKINPORTEN_URL
    altinn_url: str = DEFAULT_ALTINN_URL
    tenant_id: str | None = None
    authority: str | None = None
    client_secret: str | None = None
    certificate: str | None = None
    org: str = DEFAULT_ORG
    issuer: str | None = None  # dev mode
    cache: bool = True
    cache_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    access_token: str
    expires_at: float
    mode: str
    obtained_at: float = field(default_factory=time.time)
    from_cache: bool = False

    def usable(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        margin = min(EXPIRY_MARGIN, max(0.0, (self.expires_at - self.obtained_at) / 4))
        return now < self.expires_at - margin


class TokenProvider:
    """The token for a set of options: obtained once per process, cached across processes."""

    def __init__(self, options: TokenOptions) -> None:
        self.options = options
        self._token: Token | None = None
        self._cache = TokenCache(options.cache_dir) if options.cache else None

    def get(self) -> str:
        return self.token().access_token

    def token(self) -> Token:
        if self.options.token:
            return Token(self.options.token, _unverified_exp(self.options.token) or time.time() + 3600, "token")
        if self._token is not None and self._token.usable():
            return self._token
        key = self.cache_key()
        cached = self._cache.get(key) if self._cache and key else None
        if cached is not None:
            self._token = cached
            return cached
        token = obtain(self.options)
        if self._cache and key:
            self._cache.put(key, token)
        self._token = token
        return token

    def invalidate(self) -> None:
        self._token = None
        key = self.cache_key()
        if self._cache and key:
            self._cache.delete(key)

    def cache_key(self) -> str | None:
        """What identifies a token in the cache; never the secret or key itself. Dev tokens
        are not cached (signing one is instant and dev keys get regenerated)."""
        o = self.options
        if o.mode == "dev":
            return None
        parts: list[Any] = [o.mode, o.client_id, _scope(o)]
        if o.mode in ("maskinporten", "altinn"):
            parts += [o.maskinporten_url, o.key_id]
        if o.mode == "altinn":
            parts.append(o.altinn_url)
        if o.mode == "entra":
            parts.append(_entra_authority(o))
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def obtain(options: TokenOptions) -> Token:
    if options.mode not in MODES:
        raise UsageProblem(f"unknown token mode {options.mode!r}; use one of {', '.join(MODES)}")
    if options.mode == "dev":
        return dev_token(options)
    if options.mode == "entra":
        return entra_token(options)
    token = maskinporten_token(options)
    if options.mode == "altinn":
        return exchange_to_altinn(options, token)
    return token


def _scope(options: TokenOptions) -> str:
    if options.scope:
        return options.scope
    if options.mode in ("maskinporten", "altinn"):
        return DEFAULT_MASKINPORTEN_SCOPE
    if options.mode == "dev":
        return WRITE_SCOPE
    raise UsageProblem(
        "--scope is required for Entra ID: the API's application id URI + /.default, "
        "e.g. api://altinn-correspondence/.default"
    )


# --- keys ------------------------------------------------------------------------------------


def load_private_key(options: TokenOptions) -> tuple[rsa.RSAPrivateKey, str | None]:
    """The RSA key from ``--private-key`` (PEM or JWK file) or ALTINN_CORR_PRIVATE_KEY_PEM,
    and the kid a JWK names."""
    if options.private_key_pem:
        text = options.private_key_pem
    elif options.private_key:
        try:
            text = Path(options.private_key).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot read the private key {options.private_key} ({exc.strerror})") from None
    else:
        raise UsageProblem("a private key is required: --private-key FILE or ALTINN_CORR_PRIVATE_KEY_PEM")
    return parse_private_key(text)


def parse_private_key(text: str) -> tuple[rsa.RSAPrivateKey, str | None]:
    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            jwk = json.loads(stripped)
            key = RSAAlgorithm.from_jwk(jwk)
            kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
        else:
            password = os.environ.get("ALTINN_CORR_PRIVATE_KEY_PASSWORD")
            key = serialization.load_pem_private_key(stripped.encode(), password.encode() if password else None)
            kid = None
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise UsageProblem(f"the private key is not a readable RSA key in PEM or JWK form ({type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UsageProblem("the private key must be an RSA private key")
    return key, kid


def thumbprint_kid(key: rsa.RSAPrivateKey) -> str:
    """RFC 7638 thumbprint (what tools/devtoken uses as the dev key's kid)."""
    public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    canonical = json.dumps({"e": public["e"], "kty": "RSA", "n": public["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


# --- Maskinporten ----------------------------------------------------------------------------


def maskinporten_assertion(
    key: rsa.RSAPrivateKey, client_id: str, audience: str, scope: str, kid: str | None, now: int | None = None
) -> str:
    now = int(time.time()) if now is None else now
    claims = {
        "aud": audience,
        "iss": client_id,
        "scope": scope,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def maskinporten_token(options: TokenOptions) -> Token:
    if not options.client_id:
        raise UsageProblem("--client-id (ALTINN_CORR_CLIENT_ID) is required for Maskinporten")
    key, jwk_kid = load_private_key(options)
    kid = options.key_id or jwk_kid
    audience = options.maskinporten_url if options.maskinporten_url.endswith("/") else options.maskinporten_url + "/"
    assertion = maskinporten_assertion(key, options.client_id, audience, _scope(options), kid)
    endpoint = audience + "token"
    try:
        response = requests.post(
            endpoint,
            data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise TokenError(f"cannot reach Maskinporten at {endpoint} ({type(exc).__name__})") from None
    body = _json_object(response)
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise TokenError(f"Maskinporten refused the grant: HTTP {response.status_code}{_oauth_error(body)}")
    return Token(body["access_token"], _expires_at(body), "maskinporten")


def exchange_to_altinn(options: TokenOptions, maskinporten: Token) -> Token:
    endpoint = options.altinn_url.rstrip("/") + EXCHANGE_PATH
    try:
        response = requests.get(
            endpoint, headers={"Authorization": f"Bearer {maskinporten.access_token}"}, timeout=HTTP_TIMEOUT
        )
    except requests.RequestException as exc:
        raise TokenError(f"cannot reach Altinn at {endpoint} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise TokenError(f"Altinn refused the token exchange: HTTP {response.status_code}")
    token = response.text.strip()
    if token.startswith('"'):  # some gateways answer a JSON string
        try:
            token = json.loads(token)
        except ValueError:
            pass
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("Altinn's token exchange did not answer a token")
    return Token(token, _unverified_exp(token) or maskinporten.expires_at, "altinn")


# --- Entra ID --------------------------------------------------------------------------------


def _entra_authority(options: TokenOptions) -> str:
    if options.authority:
        return options.authority.rstrip("/")
    if not options.tenant_id:
        raise UsageProblem("--tenant-id (ALTINN_CORR_TENANT_ID or AZURE_TENANT_ID) or --authority is required for Entra ID")
    return f"{DEFAULT_ENTRA_AUTHORITY_HOST}/{options.tenant_id}"


def entra_credential(options: TokenOptions) -> Any:
    if options.client_secret and options.certificate:
        raise UsageProblem("give either a client secret or a certificate, not both")
    if options.client_secret:
        return options.client_secret
    if not options.certificate:
        raise UsageProblem(
            "Entra ID needs a client secret (ALTINN_CORR_CLIENT_SECRET) or a certificate (--certificate FILE)"
        )
    try:
        pem = Path(options.certificate).expanduser().read_bytes()
    except OSError as exc:
        raise UsageProblem(f"cannot read the certificate {options.certificate} ({exc.strerror})") from None
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise UsageProblem("--certificate must be a PEM file holding the certificate") from None
    if b"PRIVATE KEY" in pem:  # the usual bundle: certificate and key in one file
        key, _ = parse_private_key(_pem_block(pem.decode("ascii", "replace"), "PRIVATE KEY"))
    else:
        key, _ = load_private_key(options)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    # With the certificate (and no SHA-1 thumbprint) msal signs with PS256 and x5t#S256.
    return {"private_key": key_pem, "public_certificate": cert_pem}


def _pem_block(text: str, label: str) -> str:
    """The first PEM block whose label ends with ``label`` (PRIVATE KEY, RSA PRIVATE KEY, ...)."""
    import re

    match = re.search(r"-----BEGIN ([A-Z ]*%s)-----.*?-----END \1-----" % label, text, re.S)
    if match is None:
        raise UsageProblem(f"no {label} block in the PEM file")
    return match.group(0)


def entra_token(options: TokenOptions) -> Token:
    import msal  # only this mode needs it

    if not options.client_id:
        raise UsageProblem("--client-id (ALTINN_CORR_CLIENT_ID) is required for Entra ID")
    scope = _scope(options)
    authority = _entra_authority(options)
    well_known = urlparse(authority).hostname in getattr(msal.authority, "WELL_KNOWN_AUTHORITY_HOSTS", ())
    try:
        app = msal.ConfidentialClientApplication(
            options.client_id,
            client_credential=entra_credential(options),
            authority=authority,
            # Another host (a national cloud, a test authority) is the caller's choice: do not
            # ask login.microsoftonline.com to vouch for it.
            instance_discovery=None if well_known else False,
            validate_authority=well_known,
            timeout=HTTP_TIMEOUT,
        )
        result = app.acquire_token_for_client(scopes=scope.split())
    except (ValueError, requests.RequestException) as exc:
        raise TokenError(f"Entra ID: cannot use the authority {authority} ({type(exc).__name__})") from None
    if not isinstance(result, dict) or "access_token" not in result:
        result = result if isinstance(result, dict) else {}
        raise TokenError(f"Entra ID refused the client credentials{_oauth_error(result)}")
    return Token(result["access_token"], _expires_at(result), "entra")


# --- local development -----------------------------------------------------------------------


def find_dev_key(start: Path | None = None) -> Path | None:
    """``.devkeys/private.pem`` in the current directory or a parent (the repository root)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / ".devkeys" / "private.pem"
        if candidate.is_file():
            return candidate
    return None


def _dev_kid(key: rsa.RSAPrivateKey, key_path: Path | None) -> str:
    """The kid under which the key is published: from ``jwks.json`` beside the key when it
    lists this key (tools/devtoken and the tests write one), else the RFC 7638 thumbprint."""
    public_n = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)["n"]
    if key_path is not None:
        try:
            published = json.loads((key_path.parent / "jwks.json").read_text(encoding="utf-8"))
            for jwk in published.get("keys", []):
                if jwk.get("n") == public_n and isinstance(jwk.get("kid"), str):
                    return jwk["kid"]
        except (OSError, ValueError, AttributeError):
            pass
    return thumbprint_kid(key)


def _dev_issuer(key_path: Path | None) -> str:
    """ALTINN_TOKEN_ISSUER as the local host sees it (environment, then the settings files
    beside ``.devkeys``), else the local default."""
    value = os.environ.get("ALTINN_TOKEN_ISSUER", "").strip()
    if value:
        return value
    if key_path is not None:
        root = key_path.parent.parent
        for name in ("local.settings.json", "local.settings.example.json"):
            try:
                values = json.loads((root / name).read_text(encoding="utf-8")).get("Values", {})
                value = str(values.get("ALTINN_TOKEN_ISSUER") or "").strip()
            except (OSError, ValueError, AttributeError):
                continue
            if value:
                return value
    return DEFAULT_DEV_ISSUER


def dev_token(options: TokenOptions, now: int | None = None) -> Token:
    """An Altinn-style token signed with the local dev key (as ``python -m tools.devtoken``)."""
    key_path: Path | None
    if options.private_key_pem:
        key, jwk_kid = parse_private_key(options.private_key_pem)
        key_path = None
    else:
        key_path = Path(options.private_key).expanduser() if options.private_key else find_dev_key()
        if key_path is None:
            raise UsageProblem(
                "no dev signing key: run `make run` (or `python -m tools.devtoken --ensure-keys`) in the "
                "repository, or give --private-key FILE"
            )
        key, jwk_kid = load_private_key(TokenOptions(private_key=str(key_path)))
    kid = options.key_id or jwk_kid or _dev_kid(key, key_path)
    issuer = options.issuer or _dev_issuer(key_path)
    now = int(time.time()) if now is None else now
    org = options.org
    claims = {
        "iss": issuer,
        "scope": _scope(options),
        "iat": now,
        "nbf": now,
        "exp": now + DEV_TOKEN_LIFETIME,
        "jti": str(uuid.uuid4()),
        "consumer": json.dumps({"authority": "iso6523-actorid-upis", "ID": f"0192:{org}"}, separators=(",", ":")),
        "urn:altinn:orgNumber": org,
        "urn:altinn:authenticatemethod": "maskinporten",
        "urn:altinn:authlevel": 3,
        "client_id": f"altinn-corr-dev-{org}",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
    return Token(token, now + DEV_TOKEN_LIFETIME, "dev", obtained_at=now)


# --- cache -----------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    configured = os.environ.get("ALTINN_CORR_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("altinn-corr", appauthor=False))


class TokenCache:
    """``tokens.json`` in the user's cache directory: readable by the user only (0600, in a
    0700 directory), written atomically, expired entries dropped on every write."""

    FILE = "tokens.json"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()
        self.path = self.directory / self.FILE

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Token | None:
        entry = self._load().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            token = Token(str(entry["token"]), float(entry["expiresAt"]), str(entry["mode"]), float(entry["obtainedAt"]))
        except (KeyError, TypeError, ValueError):
            return None
        token.from_cache = True
        return token if token.usable() else None

    def put(self, key: str, token: Token) -> None:
        entries = {k: v for k, v in self._load().items() if isinstance(v, dict) and v.get("expiresAt", 0) > time.time()}
        entries[key] = {
            "token": token.access_token,
            "expiresAt": token.expires_at,
            "obtainedAt": token.obtained_at,
            "mode": token.mode,
        }
        self._write(entries)

    def delete(self, key: str) -> None:
        entries = self._load()
        if entries.pop(key, None) is not None:
            self._write(entries)

    def _write(self, entries: dict[str, Any]) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".tokens.")  # mkstemp: 0600
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(entries, out)
                os.chmod(temp, 0o600)
                os.replace(temp, self.path)
            except BaseException:
                os.unlink(temp)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs a new token next time


# --- helpers ---------------------------------------------------------------------------------


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _oauth_error(body: dict[str, Any]) -> str:
    error = body.get("error")
    description = body.get("error_description")
    text = f": {error}" if isinstance(error, str) else ""
    if isinstance(description, str):
        text += f" ({description[:300]})"
    return text


def _expires_at(body: dict[str, Any]) -> float:
    expires_in = body.get("expires_in")
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        exp = _unverified_exp(body.get("access_token", ""))
        return exp or time.time() + 60
    return time.time() + seconds


def _unverified_exp(token: str) -> float | None:
    """The ``exp`` of a JWT, read without verification (only to know when to refresh it)."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return float(exp) if isinstance(exp, (int, float)) else None
