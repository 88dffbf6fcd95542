"""Fixtures for the infrastructure checks: the parsed templates and one checkov report.

These tests need the infra venv (.venv-infra, from requirements-infra.txt; `make install`
creates it). Without it they fail with a message saying so: they are part of `make test`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra import infra_checks


@pytest.fixture(scope="session")
def infra_dir() -> Path:
    return infra_checks.INFRA


@pytest.fixture(scope="session")
def parsed(infra_dir: Path) -> dict[str, Any]:
    return infra_checks.parse_bicep(infra_dir)


@pytest.fixture(scope="session")
def texts(infra_dir: Path) -> dict[str, str]:
    return infra_checks.read_texts(infra_dir)


@pytest.fixture(scope="session")
def checkov_report(infra_dir: Path) -> dict[str, Any]:
    return infra_checks.run_checkov(infra_dir)
