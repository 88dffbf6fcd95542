"""Queue clients for triggers, from a binding's ``connection`` name, resolved as the Functions
host resolves it (WebJobs ``GetWebJobsConnectionStringSection``, storage extension v5):

* an empty ``connection`` means ``AzureWebJobsStorage``;
* the app setting ``AzureWebJobs<name>`` is looked up first, then ``<name>`` itself; a value is
  a connection string;
* otherwise ``<name>__queueServiceUri`` makes an identity-based connection, with
  ``<name>__credential`` (``managedidentity``) and ``<name>__clientId``.

Nothing else: the host knows no application setting names and no fallbacks between them.
"""

from __future__ import annotations

import os

from azure.storage.queue import QueueClient

DEFAULT_CONNECTION = "AzureWebJobsStorage"


class ConnectionNotConfigured(LookupError):
    """No app setting defines the binding's connection (the real host reports the function
    as failing to index and serves the others)."""


def _setting(name: str) -> str | None:
    for candidate in (f"AzureWebJobs{name}", name):
        value = os.environ.get(candidate)
        if value:
            return value
    return None


def queue_client(connection: str | None, queue_name: str) -> QueueClient:
    name = connection or DEFAULT_CONNECTION
    value = _setting(name)
    if value:
        return QueueClient.from_connection_string(value, queue_name)
    prefix = next((p for p in (f"AzureWebJobs{name}", name) if os.environ.get(f"{p}__queueServiceUri")), None)
    if prefix is None:
        raise ConnectionNotConfigured(
            f"connection {name!r}: set the app setting {name} (a connection string) or {name}__queueServiceUri"
        )
    service_uri = os.environ[f"{prefix}__queueServiceUri"]
    client_id = os.environ.get(f"{prefix}__clientId")
    if (os.environ.get(f"{prefix}__credential") or "").lower() == "managedidentity":
        from azure.identity import ManagedIdentityCredential

        credential = ManagedIdentityCredential(client_id=client_id)
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
    return QueueClient(service_uri, queue_name, credential=credential)
