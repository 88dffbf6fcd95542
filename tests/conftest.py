"""Shared fixtures: a real Azurite for every storage test, the local host for end-to-end tests.

``make test`` starts Azurite on free ports and exports ``AZURITE_CONNECTION_STRING``; when
pytest runs without it, the session starts its own Azurite the same way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tools.azurite import Azurite, free_ports

STORAGE_SETTINGS = ("AzureWebJobsStorage", "CorrespondenceStorage")


@contextmanager
def own_azurite(prefix: str) -> Iterator[Azurite]:
    """An Azurite on free ports with a temporary on-disk location, stopped and removed after."""
    location = Path(tempfile.mkdtemp(prefix=prefix))
    azurite = Azurite(free_ports(3), location)
    azurite.start()
    try:
        yield azurite
    finally:
        azurite.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite_connection() -> Iterator[str]:
    existing = os.environ.get("AZURITE_CONNECTION_STRING")
    if existing:
        yield existing
        return
    with own_azurite("azurite-") as azurite:
        yield azurite.connection_string


@pytest.fixture
def storage_env(azurite_connection: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point this process's storage settings at the test Azurite and drop cached clients."""
    from shared.storage import clients as storage_clients

    for name in STORAGE_SETTINGS:
        monkeypatch.setenv(name, azurite_connection)
    storage_clients.reset_clients()
    yield azurite_connection
    storage_clients.reset_clients()


@pytest.fixture(scope="session")
def token_issuer(tmp_path_factory: pytest.TempPathFactory):
    from tests.support.tokens import TokenIssuer

    return TokenIssuer(tmp_path_factory.mktemp("keys"))


def app_settings(token_issuer, connection: str) -> dict[str, str]:
    """Every setting the app needs, pointing at the test Azurite, keys and registry."""
    from tests.support.tokens import DEV_RESOURCE_REGISTRY

    return {
        "AzureWebJobsStorage": connection,
        "CorrespondenceStorage": connection,
        "RESOURCE_REGISTRY": DEV_RESOURCE_REGISTRY,
        "AZURE_FUNCTIONS_ENVIRONMENT": "Development",
        "MALWARE_SCAN_MODE": "none",
        **token_issuer.env(),
    }


@pytest.fixture
def app_env(token_issuer, storage_env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """In-process: this test's environment carries the app settings (storage = test Azurite)."""
    values = app_settings(token_issuer, storage_env)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@contextmanager
def own_app_host(token_issuer, tmp_path_factory: pytest.TempPathFactory, name: str, **env: str):
    """The app served by the local host on an Azurite of its own; yields the host, with its
    ``azurite`` and ``log`` (path) as attributes. ``env`` adds or overrides settings."""
    from tests.support.localhost import LocalHost

    with own_azurite(f"azurite-{name}-") as azurite:
        log = tmp_path_factory.mktemp(f"{name}-host") / "host.log"
        host = LocalHost({**app_settings(token_issuer, azurite.connection_string), **env}, log_path=log)
        host.azurite = azurite
        host.log = log
        try:
            host.start()
            yield host
        finally:
            host.stop()


@pytest.fixture(scope="session")
def local_app_azurite() -> Iterator[Azurite]:
    """The end-to-end host's own Azurite: its queue consumer must not take the messages that
    in-process integration tests inspect."""
    with own_azurite("azurite-e2e-") as azurite:
        yield azurite


@pytest.fixture(scope="session")
def local_app(token_issuer, local_app_azurite: Azurite, tmp_path_factory: pytest.TempPathFactory):
    """The real function app served by ``python -m tools.serve`` over HTTP (one per session)."""
    from tests.support.localhost import LocalHost

    log = tmp_path_factory.mktemp("host") / "host.log"
    host = LocalHost(app_settings(token_issuer, local_app_azurite.connection_string), log_path=log)
    host.start()
    yield host
    host.stop()


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    """An Azurite of this test module alone (for tests that drain queues or stop storage)."""
    with own_azurite("azurite-private-") as azurite:
        yield azurite
