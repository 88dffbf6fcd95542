"""``GET /correspondence/api/v1/correspondence/{correspondenceId}``: the sender's view of one
correspondence (upstream ``CorrespondenceOverviewExt``)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.auth.access import ensure_owner
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.documents import CorrespondenceRecord, RequestManifest
from shared.storage import attachment_store
from shared.storage import correspondence_store as store


def iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _attachment_entries(record: CorrespondenceRecord) -> list[dict[str, Any]]:
    entries = []
    for attachment_id in record.attachmentIds:
        attachment = attachment_store.read(attachment_id)
        if attachment is None:
            continue
        latest = attachment.current() if attachment.statusHistory else None
        entries.append(
            {
                "id": str(attachment.id),
                "fileName": attachment.fileName,
                "displayName": attachment.displayName,
                "isEncrypted": attachment.isEncrypted,
                "checksum": attachment.checksum,
                "sendersReference": attachment.sendersReference,
                "dataType": attachment.dataType,
                "dataLocationType": "AltinnCorrespondenceAttachment",
                "created": iso(attachment.created),
                "status": latest.status.name if latest else None,
                "statusText": latest.statusText if latest else None,
                "statusChanged": iso(latest.statusChanged) if latest else None,
            }
        )
    return entries


def overview(record: CorrespondenceRecord, manifest: RequestManifest) -> dict[str, Any]:
    shared_part = dict(manifest.correspondence)
    content = dict(shared_part.get("content") or {})
    content["attachments"] = _attachment_entries(record)
    current = record.current()
    body: dict[str, Any] = {
        **shared_part,
        "correspondenceId": str(record.id),
        "resourceId": record.resourceId,
        "sender": record.sender,
        "sendersReference": record.sendersReference,
        "recipient": record.recipient,
        "content": content,
        "created": iso(record.created),
        "requestedPublishTime": iso(record.requestedPublishTime),
        "dueDateTime": iso(record.dueDateTime),
        "status": current.status.name,
        "statusText": current.statusText,
        "statusChanged": iso(current.statusChanged),
        "published": iso(record.published),
        "markedUnread": None,
        "notifications": [],
    }
    return body


def load_for_sender(caller: Caller, correspondence_id: uuid.UUID) -> tuple[CorrespondenceRecord, RequestManifest, str]:
    """404/1001 when unknown (or never committed); 401/4001 when another organisation's."""
    found = store.read_visible(correspondence_id)
    if found is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    record, manifest, etag = found
    ensure_owner(caller, record.sender)
    return record, manifest, etag


def get_correspondence(caller: Caller, correspondence_id: uuid.UUID) -> dict[str, Any]:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    return overview(record, manifest)
