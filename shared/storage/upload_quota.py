"""Per-organisation upload quota documents: ``attachment-records/upload-quotas/{org}.json``.

One small document per organisation lists its chunked uploads that are not finished, with the
size each declared (``UploadQuota``). Every change is a read-modify-write with ``If-Match`` on
the document's ETag (``shared.storage.optimistic``), so parallel chunk starts of one
organisation serialise on it: of two that would together exceed the cap, the second one to
write re-reads the first one's reservation and is refused. The cap is therefore exact, at the
price of a retry per collision. What a change may do is decided by ``shared.rules.upload_quota``;
this module only reads and writes. A document is created on first use (``If-None-Match: *``).
"""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.core.documents import UploadQuota
from shared.core.errors import ServiceUnavailable
from shared.storage import clients, optimistic

logger = logging.getLogger(__name__)

R = TypeVar("R")

_UPDATE_ATTEMPTS = 20
PREFIX = "upload-quotas/"


def _blob(organization: str, profile: clients.Profile):
    clients.ensure_storage_once()
    return clients.blob_service(profile).get_blob_client(clients.ATTACHMENT_RECORDS_CONTAINER, f"{PREFIX}{organization}.json")


def read(organization: str, profile: clients.Profile = "request") -> UploadQuota | None:
    try:
        return UploadQuota.model_validate_json(_blob(organization, profile).download_blob().readall())
    except ResourceNotFoundError:
        return None


def update(
    organization: str,
    change: Callable[[UploadQuota], optimistic.Decision[R]],
    profile: clients.Profile = "request",
) -> optimistic.Updated[UploadQuota, R]:
    """Read-modify-write of the organisation's document, created empty when missing."""
    blob = _blob(organization, profile)

    def read_with_etag() -> tuple[UploadQuota, str] | None:
        try:
            downloader = blob.download_blob()
            return UploadQuota.model_validate_json(downloader.readall()), downloader.properties.etag
        except ResourceNotFoundError:
            return None

    def save(document: UploadQuota, etag: str) -> None:
        blob.upload_blob(document.to_bytes(), overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)

    try:
        for _ in range(2):
            updated = optimistic.update(
                read_with_etag, save, change, attempts=_UPDATE_ATTEMPTS, what=f"upload quota of {organization}"
            )
            if updated is not None:
                return updated
            try:
                blob.upload_blob(UploadQuota(organization=organization).to_bytes(), overwrite=False)
            except ResourceExistsError:
                pass  # created by a parallel request meanwhile
    except RuntimeError:  # optimistic.update: too many parallel writers in a row
        pass
    # Contention, not a fault: the client may retry (503 with Retry-After).
    logger.warning("upload quota of organisation %s: too many parallel changes", organization)
    raise ServiceUnavailable()
