"""Real RS256 tokens for tests: a key pair, its JWKS file, and tokens in both issuers' styles.

In-process tests::

    issuer = TokenIssuer(tmp_path)
    for name, value in issuer.env().items():
        monkeypatch.setenv(name, value)
    headers = issuer.authorization()            # {"Authorization": "Bearer ..."}

Tests that start the local host as a subprocess::

    env = {**os.environ, **auth_env(tmp_path), "RESOURCE_REGISTRY": DEV_RESOURCE_REGISTRY}
    ...  # start `python -m tools.serve` with env
    token = TokenIssuer(tmp_path).altinn_token()  # same directory -> same key

The key is kept in the directory (``private.pem``), so every ``TokenIssuer`` made on the
same directory signs with the same key that the written ``jwks.json`` publishes.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALTINN_ISSUER = "https://platform.test.altinn.example/authentication/api/v1/openid/"
MASKINPORTEN_ISSUER = "https://test.maskinporten.example/"
DEFAULT_ORG = "991825827"
WRITE_SCOPE = "altinn:correspondence.write"
SERVICE_OWNER_SCOPE = "altinn:serviceowner"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_RESOURCE_REGISTRY = str(REPO_ROOT / "tools" / "dev-resource-registry.json")

def new_private_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (a few tens of milliseconds)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "use": "sig", "alg": "RS256"}


def public_pem(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class TokenIssuer:
    """One signing key (plus any rotated-in keys), a JWKS file, and token factories."""

    def __init__(
        self,
        directory: Path | str,
        *,
        altinn_issuer: str = ALTINN_ISSUER,
        maskinporten_issuer: str = MASKINPORTEN_ISSUER,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.altinn_issuer = altinn_issuer
        self.maskinporten_issuer = maskinporten_issuer
        self.jwks_path = self.directory / "jwks.json"
        self.key_path = self.directory / "private.pem"
        if self.key_path.exists() and self.jwks_path.exists():
            # Another TokenIssuer made this directory: sign with its current key.
            loaded = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self.private_key = loaded
            self.kid = json.loads(self.jwks_path.read_text())["keys"][0]["kid"]
            self.published: dict[str, rsa.RSAPrivateKey] = {self.kid: self.private_key}
        else:
            self.private_key = new_private_key()
            self.kid = f"test-{uuid.uuid4().hex[:12]}"
            self.published = {self.kid: self.private_key}
            self._save()

    # --- keys ----------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """The public key set, current key first."""
        keys = [public_jwk(self.published[self.kid], self.kid)]
        keys += [public_jwk(key, kid) for kid, key in self.published.items() if kid != self.kid]
        return {"keys": keys}

    def write_jwks(self) -> Path:
        self.jwks_path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return self.jwks_path

    def rotate(self, *, keep_old: bool = True) -> str:
        """Sign with a new key from now on; the JWKS file publishes it (and the old one when
        ``keep_old``). Returns the new kid. A JWKS server should serve ``jwks()``."""
        self.private_key = new_private_key()
        self.kid = f"test-{uuid.uuid4().hex[:12]}"
        if not keep_old:
            self.published.clear()
        self.published[self.kid] = self.private_key
        self._save()
        return self.kid

    def _save(self) -> None:
        self.key_path.write_bytes(
            self.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.write_jwks()

    # --- settings ------------------------------------------------------------------------

    def env(self, jwks: str | None = None) -> dict[str, str]:
        """The four token settings. ``jwks`` overrides the key set source (e.g. a URL)."""
        source = jwks or str(self.jwks_path)
        return {
            "ALTINN_TOKEN_ISSUER": self.altinn_issuer,
            "ALTINN_TOKEN_JWKS": source,
            "MASKINPORTEN_ISSUER": self.maskinporten_issuer,
            "MASKINPORTEN_JWKS": source,
        }

    # --- tokens --------------------------------------------------------------------------

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: Any = None,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Sign arbitrary claims. Defaults: this issuer's current key and kid."""
        header = {"kid": self.kid, **(headers or {})}
        return jwt.encode(claims, key if key is not None else self.private_key, algorithm=algorithm, headers=header)

    def altinn_claims(
        self, org: str | None = DEFAULT_ORG, scopes: str = WRITE_SCOPE, lifetime: int = 600
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.altinn_issuer,
            "scope": scopes,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "client_id": "test-client",
            "urn:altinn:authlevel": 3,
        }
        if org is not None:
            claims["urn:altinn:orgNumber"] = org
            claims["consumer"] = json.dumps({"authority": "iso6523-actorid-upis", "ID": f"0192:{org}"})
        return claims

    def maskinporten_claims(
        self,
        org: str | None = DEFAULT_ORG,
        scopes: str = f"{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}",
        lifetime: int = 600,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.maskinporten_issuer,
            "scope": scopes,
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "client_id": "test-maskinporten-client",
            "token_type": "Bearer",
        }
        if org is not None:
            claims["consumer"] = {"authority": "iso6523-actorid-upis", "ID": f"0192:{org}"}
        return claims

    def altinn_token(self, org: str | None = DEFAULT_ORG, scopes: str = WRITE_SCOPE, **overrides: Any) -> str:
        """An Altinn platform token. Overrides replace claims; a value of ``None`` removes one
        (claim names that are not identifiers: ``**{"urn:altinn:orgNumber": None}``)."""
        return self.sign(_apply(self.altinn_claims(org, scopes), overrides))

    def maskinporten_token(
        self, org: str | None = DEFAULT_ORG, scopes: str = f"{WRITE_SCOPE} {SERVICE_OWNER_SCOPE}", **overrides: Any
    ) -> str:
        return self.sign(_apply(self.maskinporten_claims(org, scopes), overrides))

    def authorization(self, token: str | None = None, **altinn_token_args: Any) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}``; by default a valid Altinn sender token."""
        return {"Authorization": f"Bearer {token or self.altinn_token(**altinn_token_args)}"}


def _apply(claims: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    result = dict(claims)
    for name, value in overrides.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def auth_env(tmp_path: Path | str) -> dict[str, str]:
    """The four token settings trusting ``TokenIssuer(tmp_path)`` (created on first use)."""
    return TokenIssuer(tmp_path).env()
