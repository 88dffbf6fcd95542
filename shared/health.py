"""Health: is the application's storage reachable? Proves host -> function -> shared -> storage."""

from __future__ import annotations

from shared import storage_clients


def check_health() -> dict[str, str]:
    """Raises the storage SDK's error when storage is unreachable (the HTTP layer answers 503)."""
    container = storage_clients.blob_service().get_container_client(storage_clients.CORRESPONDENCES_CONTAINER)
    container.exists()
    return {"status": "Healthy"}
