"""``GET /health``: is the application's storage reachable? Proves host -> function -> shared ->
storage."""

from __future__ import annotations

from shared.storage import clients


def health() -> dict[str, str]:
    """Raises the storage SDK's error when storage is unreachable (the HTTP layer answers 503)."""
    container = clients.blob_service().get_container_client(clients.CORRESPONDENCES_CONTAINER)
    container.exists()
    return {"status": "Healthy"}
