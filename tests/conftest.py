"""Shared fixtures: a real Azurite for every storage test, the local host for end-to-end tests,
a hand-moved clock, and fresh process-wide caches. Helpers live in tests/support/.

``make test`` starts Azurite on free ports and exports ``AZURITE_CONNECTION_STRING``; when
pytest runs without it, the session starts its own Azurite the same way.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Iterator

import pytest

from tests.support.app import app_settings
from tests.support.azurite import STORAGE_SETTINGS, own_azurite
from tests.support.caches import reset_storage_clients
from tests.support.clock import FakeClock, FakeClockFactory
from tests.support.localhost import LocalHost
from tests.support.tokens import TokenIssuer
from tools.azurite import Azurite

# --- storage -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def azurite_connection() -> Iterator[str]:
    existing = os.environ.get("AZURITE_CONNECTION_STRING")
    if existing:
        yield existing
        return
    with own_azurite("azurite-") as azurite:
        yield azurite.connection_string


@pytest.fixture
def fresh_storage_clients() -> Iterator[None]:
    """No storage client cached before or after the test (it may repoint storage)."""
    reset_storage_clients()
    yield
    reset_storage_clients()


@pytest.fixture
def storage_env(azurite_connection: str, fresh_storage_clients: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point this process's storage settings at the test Azurite, with no client cached (no
    code runs between the reset and the settings, so the clients built next use them)."""
    for name in STORAGE_SETTINGS:
        monkeypatch.setenv(name, azurite_connection)
    return azurite_connection


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    """An Azurite of this test module alone (for tests that drain queues or stop storage)."""
    with own_azurite("azurite-private-") as azurite:
        yield azurite


# --- the app -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def token_issuer(tmp_path_factory: pytest.TempPathFactory) -> TokenIssuer:
    return TokenIssuer(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def app_env(token_issuer: TokenIssuer, storage_env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """In-process: this test's environment carries the app settings (storage = test Azurite)."""
    values = app_settings(token_issuer, storage_env)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture(scope="session")
def local_app_azurite() -> Iterator[Azurite]:
    """The end-to-end host's own Azurite: its queue consumer must not take the messages that
    in-process integration tests inspect."""
    with own_azurite("azurite-e2e-") as azurite:
        yield azurite


@pytest.fixture(scope="session")
def local_app(token_issuer: TokenIssuer, local_app_azurite: Azurite, tmp_path_factory: pytest.TempPathFactory):
    """The real function app served by ``python -m tools.serve`` over HTTP (one per session)."""
    log = tmp_path_factory.mktemp("host") / "host.log"
    host = LocalHost(app_settings(token_issuer, local_app_azurite.connection_string), log_path=log)
    host.start()
    yield host
    host.stop()


# --- time and caches -----------------------------------------------------------------------


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClockFactory:
    """``fake_clock(module)`` puts a FakeClock in place of ``module.clock`` for this test and
    returns it (``shared.auth.jwks``, ``shared.integrations.resource_registry``)."""

    def patch(module: ModuleType) -> FakeClock:
        if not callable(getattr(module, "clock", None)):
            raise AttributeError(f"{module.__name__} has no clock to replace")
        clock = FakeClock()
        monkeypatch.setattr(module, "clock", clock)
        return clock

    return patch


@pytest.fixture
def fresh_key_sets() -> Iterator[None]:
    """No issuer key set cached before or after the test (``shared.auth.jwks``)."""
    from shared.auth import jwks

    jwks.reset_caches()
    yield
    jwks.reset_caches()


@pytest.fixture
def fresh_registry_cache() -> Iterator[None]:
    """No resource registry lookup cached before or after the test."""
    from shared.integrations import resource_registry

    resource_registry.reset_caches()
    yield
    resource_registry.reset_caches()
