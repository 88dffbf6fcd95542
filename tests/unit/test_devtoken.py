"""tools/devtoken.py makes tokens that the API accepts with the local default settings."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import jwt
import pytest

from shared.auth import tokens as auth
from tools import devtoken


@pytest.fixture
def key_dir(fresh_key_sets: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / ".devkeys"
    monkeypatch.setattr(devtoken, "KEY_DIR", directory)
    for name, value in devtoken.LOCAL_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    key_set = str(directory / "jwks.json")
    monkeypatch.setenv("ALTINN_TOKEN_JWKS", key_set)
    monkeypatch.setenv("MASKINPORTEN_JWKS", key_set)
    return directory


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert devtoken.main(list(argv)) == 0
    return capsys.readouterr().out.strip()


def test_altinn_style_token_is_accepted(key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _run(capsys)
    caller = auth.authenticate(f"Bearer {token}")
    assert caller.organization == devtoken.DEFAULT_ORG
    assert caller.token_kind == "altinn"
    assert caller.issuer == devtoken.LOCAL_DEFAULTS["ALTINN_TOKEN_ISSUER"]


def test_maskinporten_style_token_is_accepted(key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _run(capsys, "--maskinporten", "--org", "310000000", "--lifetime", "60")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert "urn:altinn:orgNumber" not in claims
    caller = auth.authenticate(f"Bearer {token}")
    assert (caller.organization, caller.token_kind) == ("310000000", "maskinporten")


def test_scopes_option(key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _run(capsys, "--scopes", "altinn:correspondence.read")
    with pytest.raises(auth.InsufficientScope):
        auth.authenticate(f"Bearer {token}")


def test_ensure_keys_creates_keys_once_and_prints_nothing(key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "--ensure-keys") == ""
    private = key_dir / "private.pem"
    first = private.read_bytes()
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert (key_dir / ".gitignore").read_text().strip().endswith("*")
    jwks = json.loads((key_dir / "jwks.json").read_text())
    assert [key["kty"] for key in jwks["keys"]] == ["RSA"]
    assert "d" not in jwks["keys"][0]  # public only
    _run(capsys, "--ensure-keys")
    assert private.read_bytes() == first


def test_issuer_comes_from_local_settings_when_not_in_environment(
    key_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devtoken, "REPO_ROOT", tmp_path)
    monkeypatch.delenv("ALTINN_TOKEN_ISSUER")
    (tmp_path / "local.settings.example.json").write_text(
        json.dumps({"Values": {"ALTINN_TOKEN_ISSUER": "http://example/from-example/"}})
    )
    assert devtoken.setting("ALTINN_TOKEN_ISSUER") == "http://example/from-example/"
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"ALTINN_TOKEN_ISSUER": "http://example/local/"}}))
    assert devtoken.setting("ALTINN_TOKEN_ISSUER") == "http://example/local/"
    monkeypatch.setenv("ALTINN_TOKEN_ISSUER", "http://example/env/")
    assert devtoken.setting("ALTINN_TOKEN_ISSUER") == "http://example/env/"
