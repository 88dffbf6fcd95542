"""Attachment records in Blob Storage: one metadata document per attachment.

Layout::

    attachment-records/{id}.json   AttachmentRecord (metadata, status history, links, upload state)
    attachments/{id}               the file (``shared.storage.blocks``)

Every change is a read-modify-write of the record with ``If-Match`` on its ETag, retried on a
conflict, so that concurrent writers never lose each other's changes: a purge racing with a
link, two uploads racing for the same attachment, a malware-scan result racing with the end of
an upload. What a change may do is decided by ``shared.rules.attachment_lifecycle``; this
module only reads and writes.

Retention index: every write of a record sets its blob index tags from
``AttachmentRecord.pending_deadlines()`` (``expiresAt``, ``abandonAt``; times as
``YYYY-MM-DDTHH:MM:SSZ``, which sort as strings in time order), in the same Put Blob as the
content, so the index never disagrees with the record it was written with. ``due`` asks the
blob index for records whose deadline has passed (Find Blobs by Tags): the retention job reads
only those, never every record. The index may lag a write by a little (Azure updates it
asynchronously); the job decides on the record itself, so a stale hit costs one read.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from itertools import islice
from typing import Callable, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.core.documents import AttachmentRecord
from shared.storage import clients, optimistic

R = TypeVar("R")

_UPDATE_ATTEMPTS = 20
# Always one tag, so that every write replaces the whole tag set (a write without tags would
# otherwise leave a stale deadline behind).
_KIND_TAG = {"kind": "attachment"}
DEADLINES = ("expiresAt", "abandonAt")


def tag_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def index_tags(record: AttachmentRecord) -> dict[str, str]:
    return {**_KIND_TAG, **{name: tag_time(when) for name, when in record.pending_deadlines().items()}}


def record_name(attachment_id: uuid.UUID) -> str:
    return f"{attachment_id}.json"


def records_container():
    clients.ensure_storage_once()
    return clients.blob_service().get_container_client(clients.ATTACHMENT_RECORDS_CONTAINER)


def read_with_etag(attachment_id: uuid.UUID) -> tuple[AttachmentRecord, str] | None:
    try:
        downloader = records_container().download_blob(record_name(attachment_id))
        return AttachmentRecord.model_validate_json(downloader.readall()), downloader.properties.etag
    except ResourceNotFoundError:
        return None


def read(attachment_id: uuid.UUID) -> AttachmentRecord | None:
    found = read_with_etag(attachment_id)
    return None if found is None else found[0]


def create(record: AttachmentRecord) -> None:
    """Store a new record; never overwrites (ids are random, a clash is a bug)."""
    try:
        records_container().upload_blob(record_name(record.id), record.to_bytes(), overwrite=False, tags=index_tags(record))
    except ResourceExistsError:
        pass  # ours: the SDK retried a create that had landed (its answer was lost)


def save(record: AttachmentRecord, etag: str) -> str:
    """Write ``record`` only if nobody wrote since ``etag`` (else ``ResourceModifiedError``)."""
    blob = records_container().get_blob_client(record_name(record.id))
    result = blob.upload_blob(
        record.to_bytes(), overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified, tags=index_tags(record)
    )
    return result["etag"]


def update(
    attachment_id: uuid.UUID, change: Callable[[AttachmentRecord], optimistic.Decision[R]]
) -> optimistic.Updated[AttachmentRecord, R] | None:
    """Read-modify-write with ETag retries (``shared.storage.optimistic``); ``None`` when the
    attachment does not exist."""
    return optimistic.update(
        lambda: read_with_etag(attachment_id), save, change, attempts=_UPDATE_ATTEMPTS, what=f"attachment {attachment_id}"
    )


def due(deadline: str, now: datetime, limit: int, profile: clients.Profile = "background") -> list[uuid.UUID]:
    """Ids of records whose ``deadline`` tag (one of ``DEADLINES``) is before ``now``, at most
    ``limit`` of them (the blob index; see the module docstring)."""
    if deadline not in DEADLINES:
        raise ValueError(f"unknown deadline {deadline}")
    clients.ensure_storage_once()
    container = clients.blob_service(profile).get_container_client(clients.ATTACHMENT_RECORDS_CONTAINER)
    # The service's page size (up to 5000 matches); islice stops after ``limit``.
    found = container.find_blobs_by_tags(f"\"{deadline}\" < '{tag_time(now)}'")
    ids = []
    for blob in islice(found, limit):
        try:
            ids.append(uuid.UUID(blob.name.removesuffix(".json")))
        except ValueError:
            continue  # not a record
    return ids
