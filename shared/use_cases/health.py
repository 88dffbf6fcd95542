"""``GET /health``: is the application's storage reachable? Proves host -> function -> shared ->
storage."""

from __future__ import annotations

from shared.core.operations import Answer, Operation
from shared.models.responses import HealthStatus
from shared.storage import clients

OPERATION = Operation(
    summary="Health: the application's storage answers",
    tags=("Operations",),
    answers=(Answer(200, "Healthy.", HealthStatus),),
)


def health() -> HealthStatus:
    """Raises the storage SDK's error when storage is unreachable (the HTTP layer answers 503)."""
    container = clients.blob_service().get_container_client(clients.CORRESPONDENCES_CONTAINER)
    container.exists()
    return HealthStatus(status="Healthy")
