"""How the local host resolves a queue trigger's ``connection`` (as the Functions host does),
and how ``tools/azurite.py`` points ``UseDevelopmentStorage=true`` settings at its ports."""

from __future__ import annotations

import json

import pytest

from tools import azurite
from tools.localhost.storage import ConnectionNotConfigured, queue_client

CONN = azurite.connection_string(11000, 11001, 11002)
OTHER = azurite.connection_string(12000, 12001, 12002)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AzureWebJobsStorage", "CorrespondenceStorage", "AzureWebJobsCorrespondenceStorage", "MyQueues__queueServiceUri"):
        monkeypatch.delenv(name, raising=False)


def test_an_empty_connection_means_azure_web_jobs_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", CONN)
    assert ":11001/" in queue_client(None, "q").url
    assert ":11001/" in queue_client("", "q").url


def test_a_named_connection_has_no_fallback_to_azure_web_jobs_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host knows no app settings: CorrespondenceStorage unset is an error, as in Azure."""
    monkeypatch.setenv("AzureWebJobsStorage", CONN)
    with pytest.raises(ConnectionNotConfigured, match="CorrespondenceStorage"):
        queue_client("CorrespondenceStorage", "q")


def test_the_azure_web_jobs_prefixed_setting_is_looked_up_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CorrespondenceStorage", CONN)
    assert ":11001/" in queue_client("CorrespondenceStorage", "q").url
    monkeypatch.setenv("AzureWebJobsCorrespondenceStorage", OTHER)
    assert ":12001/" in queue_client("CorrespondenceStorage", "q").url


def test_an_identity_based_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    monkeypatch.setenv("MyQueues__queueServiceUri", "https://account.queue.core.windows.net")
    client = queue_client("MyQueues", "work")
    assert client.url == "https://account.queue.core.windows.net/work"
    assert isinstance(client.credential, DefaultAzureCredential)
    monkeypatch.setenv("MyQueues__credential", "managedidentity")
    monkeypatch.setenv("MyQueues__clientId", "00000000-0000-0000-0000-000000000001")
    assert isinstance(queue_client("MyQueues", "work").credential, ManagedIdentityCredential)


def test_development_storage_settings_come_from_the_environment_and_local_settings(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "CorrespondenceStorage": "UseDevelopmentStorage=true", "Other": "x"}})
    )
    assert azurite.development_storage_settings(tmp_path) == ["AzureWebJobsStorage", "CorrespondenceStorage"]
    # The environment wins over local.settings.json (as in the host), in both directions.
    monkeypatch.setenv("CorrespondenceStorage", OTHER)
    monkeypatch.setenv("ExtraStorage", "usedevelopmentstorage=true")
    assert azurite.development_storage_settings(tmp_path) == ["AzureWebJobsStorage", "ExtraStorage"]


@pytest.mark.parametrize(
    "returncode, stopping, expected",
    [(0, False, 0), (0, True, 0), (-2, True, 0), (-15, True, 0), (3, True, 3), (1, False, 1), (-15, False, 143), (-9, True, 137)],
)
def test_the_wrapper_exit_code(returncode: int, stopping: bool, expected: int) -> None:
    assert azurite._exit_code(returncode, stopping) == expected
