"""Point this process's app at a storage account, and swap the storage SDK's transport for
one that injects failures (the storage itself stays real)."""

from __future__ import annotations

import pytest

from shared.storage import clients as storage_clients
from tests.support.app import app_settings
from tests.support.caches import reset_storage_clients


def use_app_settings(monkeypatch: pytest.MonkeyPatch, token_issuer, connection: str) -> None:
    for name, value in app_settings(token_issuer, connection).items():
        monkeypatch.setenv(name, value)
    reset_storage_clients()


def use_transport(monkeypatch: pytest.MonkeyPatch, transport_cls) -> None:
    """Blob and queue clients built from now on send through ``transport_cls`` (a
    ``RequestsTransport`` subclass), keeping the pooled session of the real options."""
    original = storage_clients._client_options

    def options(profile):
        values = original(profile)
        values["transport"] = transport_cls(session=values["transport"].session, session_owner=False, connection_timeout=2)
        return values

    monkeypatch.setattr(storage_clients, "_client_options", options)
    storage_clients.reset_clients()
