"""Fixtures for the command-line client: run ``altinn-corr`` in-process (click's CliRunner)
with an isolated cache and state directory and no ALTINN_CORR_* settings from the developer's
environment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("altinn_corr", reason="the CLI is not installed: make install (pip install -e ./cli)")

from click.testing import CliRunner  # noqa: E402

from altinn_corr.cli import main  # noqa: E402


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """``cli("upload", path, "--resource", "x")`` -> Result; dev tokens from the test issuer."""

    def __init__(self, home: Path, base_url: str | None, token_issuer: Any) -> None:
        self.home = home
        self.base_url = base_url
        self.token_issuer = token_issuer

    def env(self, **extra: str) -> dict[str, str | None]:
        env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("ALTINN_CORR_")}
        env.update({
            "ALTINN_CORR_CACHE_DIR": str(self.home / "cache"),
            "ALTINN_CORR_STATE_DIR": str(self.home / "state"),
            "ALTINN_TOKEN_ISSUER": None,
        })
        if self.base_url:
            env["ALTINN_CORR_BASE_URL"] = self.base_url
        if self.token_issuer is not None:
            # dev mode signs with the test issuer's key; the kid comes from its jwks.json
            env["ALTINN_CORR_PRIVATE_KEY"] = str(self.token_issuer.key_path)
            env["ALTINN_CORR_DEV_ISSUER"] = self.token_issuer.altinn_issuer
        env.update(extra)
        return env

    def __call__(self, *args: Any, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        runner = CliRunner()
        result = runner.invoke(main, [str(a) for a in args], env=self.env(**(env or {})), input=input,
                               catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(tmp_path: Path, token_issuer) -> Cli:
    return Cli(tmp_path / "home", None, token_issuer)


@pytest.fixture
def app_cli(tmp_path: Path, token_issuer, local_app) -> Cli:
    return Cli(tmp_path / "home", local_app.url, token_issuer)
