"""The app's settings for tests, and the app served on a local host with an Azurite of its own.

``app_settings`` is what every in-process test environment and every test host carries
(storage, trusted token issuers, the dev resource registry); ``own_app_host`` is for tests that
stop or drain that host's storage, or load it, without disturbing the session's host.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest

from tests.support.azurite import STORAGE_SETTINGS, own_azurite
from tests.support.localhost import LocalHost
from tests.support.tokens import DEV_RESOURCE_REGISTRY, TokenIssuer


def app_settings(token_issuer: TokenIssuer, connection: str) -> dict[str, str]:
    """Every setting the app needs, pointing at the test Azurite, keys and registry."""
    return {
        **{name: connection for name in STORAGE_SETTINGS},
        "RESOURCE_REGISTRY": DEV_RESOURCE_REGISTRY,
        "AZURE_FUNCTIONS_ENVIRONMENT": "Development",
        "MALWARE_SCAN_MODE": "none",
        **token_issuer.env(),
    }


@contextmanager
def own_app_host(
    token_issuer: TokenIssuer, tmp_path_factory: pytest.TempPathFactory, name: str, **env: str
) -> Iterator[LocalHost]:
    """The app served by the local host on an Azurite of its own; yields the host, with its
    ``azurite`` and ``log`` (path) as attributes. ``env`` adds or overrides settings."""
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
