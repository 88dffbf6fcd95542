"""Queue clients for triggers, from a binding's ``connection`` setting (as the host resolves it)."""

from __future__ import annotations

import os

from azure.storage.queue import QueueClient


def queue_client(connection: str | None, queue_name: str) -> QueueClient:
    name = connection or "AzureWebJobsStorage"
    value = os.environ.get(name) or (
        os.environ.get("AzureWebJobsStorage") if name == "CorrespondenceStorage" else None
    )
    if value:
        return QueueClient.from_connection_string(value, queue_name)
    service_uri = os.environ.get(f"{name}__queueServiceUri")
    if service_uri:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=os.environ.get(f"{name}__clientId"))
        return QueueClient(service_uri, queue_name, credential=credential)
    raise KeyError(f"queue trigger connection: app setting {name} is not set")
