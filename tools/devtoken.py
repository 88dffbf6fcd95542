"""Print a signed RS256 bearer token for local use.

    curl -H "Authorization: Bearer $(.venv/bin/python -m tools.devtoken)" \\
        http://localhost:7071/correspondence/api/v1/...

The signing key is created on first use in ``.devkeys/`` (ignored by git): ``private.pem``
and ``jwks.json``, the public key set that the local default settings trust
(``ALTINN_TOKEN_JWKS`` / ``MASKINPORTEN_JWKS`` = ``.devkeys/jwks.json``). The issuer comes
from the environment, else from ``local.settings.json`` or ``local.settings.example.json``
"Values", else from the local defaults below. Never point a deployed app at these keys.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

REPO_ROOT = Path(__file__).resolve().parents[1]
KEY_DIR = REPO_ROOT / ".devkeys"
PRIVATE_KEY_FILE = "private.pem"
JWKS_FILE = "jwks.json"

DEFAULT_ORG = "991825827"
DEFAULT_SCOPES = "altinn:correspondence.write altinn:serviceowner"
DEFAULT_LIFETIME_SECONDS = 3600
LOCAL_DEFAULTS = {
    "ALTINN_TOKEN_ISSUER": "http://localhost/altinn-dev-token/",
    "MASKINPORTEN_ISSUER": "http://localhost/maskinporten-dev-token/",
    "ALTINN_TOKEN_JWKS": ".devkeys/jwks.json",
    "MASKINPORTEN_JWKS": ".devkeys/jwks.json",
}


def setting(name: str) -> str:
    """Environment first, then the local settings files, as the local host reads them."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    for file_name in ("local.settings.json", "local.settings.example.json"):
        path = REPO_ROOT / file_name
        try:
            values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
        except (OSError, ValueError, AttributeError):
            continue
        value = str(values.get(name, "") or "").strip()
        if value:
            return value
    return LOCAL_DEFAULTS[name]


def key_id(public_jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: the same key always gets the same kid."""
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": "RSA", "n": public_jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _write_atomically(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write via a temporary file so a concurrent reader never sees half a file. With
    ``exclusive`` an existing file wins (two processes creating keys at once agree on one)."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        if exclusive:
            try:
                os.link(temp_name, path)
            except FileExistsError:
                pass
        else:
            os.replace(temp_name, path)
            temp_name = ""
    finally:
        if temp_name:
            os.unlink(temp_name)


def ensure_keys(key_dir: Path | None = None) -> tuple[rsa.RSAPrivateKey, str]:
    """The dev signing key and its kid; creates the key and the public JWKS when missing."""
    key_dir = key_dir or KEY_DIR
    key_dir.mkdir(mode=0o700, exist_ok=True)
    ignore_file = key_dir / ".gitignore"
    if not ignore_file.exists():
        ignore_file.write_text("# Local signing keys: never commit.\n*\n", encoding="utf-8")
    private_path = key_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = new_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_atomically(private_path, pem, exclusive=True)
        os.chmod(private_path, 0o600)
    private_key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SystemExit(f"{private_path} is not an RSA key; delete it to get a new one")
    public_jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = key_id(public_jwk)
    jwks = {"keys": [{**public_jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}
    jwks_path = key_dir / JWKS_FILE
    wanted = json.dumps(jwks, indent=2).encode("utf-8")
    if not jwks_path.exists() or jwks_path.read_bytes() != wanted:
        _write_atomically(jwks_path, wanted, exclusive=False)
    return private_key, kid


def claims_for(org: str, scopes: str, *, maskinporten: bool, lifetime: int, now: int) -> dict[str, object]:
    consumer = {"authority": "iso6523-actorid-upis", "ID": f"0192:{org}"}
    common = {"scope": scopes, "iat": now, "nbf": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
    if maskinporten:
        return {
            **common,
            "iss": setting("MASKINPORTEN_ISSUER"),
            "consumer": consumer,
            "client_id": f"devtoken-{org}",
            "client_amr": "private_key_jwt",
            "token_type": "Bearer",
        }
    # Altinn platform tokens carry the consumer as a JSON string, plus the org number claim.
    return {
        **common,
        "iss": setting("ALTINN_TOKEN_ISSUER"),
        "consumer": json.dumps(consumer, separators=(",", ":")),
        "urn:altinn:orgNumber": org,
        "urn:altinn:authenticatemethod": "maskinporten",
        "urn:altinn:authlevel": 3,
        "client_id": f"devtoken-{org}",
    }


def _warn_if_untrusted(maskinporten: bool) -> None:
    name = "MASKINPORTEN_JWKS" if maskinporten else "ALTINN_TOKEN_JWKS"
    source = setting(name)
    if source.lower().startswith(("http://", "https://")):
        print(f"devtoken: warning: {name} is a URL; the API will not trust this token", file=sys.stderr)
        return
    if Path(source).resolve() != (KEY_DIR / JWKS_FILE).resolve():
        print(f"devtoken: warning: {name} does not point to .devkeys/{JWKS_FILE}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.devtoken", description=__doc__.split("\n\n")[0])
    parser.add_argument("--org", default=DEFAULT_ORG, help="organisation number (default %(default)s)")
    parser.add_argument("--scopes", default=DEFAULT_SCOPES, help='space-separated (default "%(default)s")')
    parser.add_argument("--maskinporten", action="store_true", help="a raw Maskinporten-style token")
    parser.add_argument("--lifetime", type=int, default=DEFAULT_LIFETIME_SECONDS, help="seconds (default %(default)s)")
    parser.add_argument("--ensure-keys", action="store_true", help="only create the keys; print nothing")
    args = parser.parse_args(argv)

    private_key, kid = ensure_keys()
    if args.ensure_keys:
        return 0
    _warn_if_untrusted(args.maskinporten)
    claims = claims_for(
        args.org, args.scopes, maskinporten=args.maskinporten, lifetime=args.lifetime, now=int(time.time())
    )
    print(jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
