"""Shared fixtures: a real Azurite for every storage test, the local host for end-to-end tests.

``make test`` starts Azurite on free ports and exports ``AZURITE_CONNECTION_STRING``; when
pytest runs without it, the session starts its own Azurite the same way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tools.azurite import Azurite, free_ports

STORAGE_SETTINGS = ("AzureWebJobsStorage", "CorrespondenceStorage")


@pytest.fixture(scope="session")
def azurite_connection() -> Iterator[str]:
    existing = os.environ.get("AZURITE_CONNECTION_STRING")
    if existing:
        yield existing
        return
    location = Path(tempfile.mkdtemp(prefix="azurite-"))
    azurite = Azurite(free_ports(3), location)
    azurite.start()
    try:
        yield azurite.connection_string
    finally:
        azurite.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture
def storage_env(azurite_connection: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point this process's storage settings at the test Azurite and drop cached clients."""
    from shared import storage_clients

    for name in STORAGE_SETTINGS:
        monkeypatch.setenv(name, azurite_connection)
    storage_clients.reset_clients()
    yield azurite_connection
    storage_clients.reset_clients()
