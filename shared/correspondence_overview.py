"""The sender's view of one correspondence (upstream ``CorrespondenceOverviewExt``)."""

from __future__ import annotations

import uuid
from typing import Any

from shared import access, errors
from shared import correspondence_store as store
from shared.records import CorrespondenceRecord, RequestManifest, as_utc


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _attachment_entries(record: CorrespondenceRecord) -> list[dict[str, Any]]:
    if not record.attachmentIds:
        return []
    from shared import attachment_store

    entries = []
    for attachment_id in record.attachmentIds:
        attachment = attachment_store.read_attachment(attachment_id)
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
                "created": _iso(attachment.created),
                "status": latest.status if latest else None,
                "statusText": latest.statusText if latest else None,
                "statusChanged": _iso(latest.statusChanged) if latest else None,
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
        "created": _iso(record.created),
        "requestedPublishTime": _iso(record.requestedPublishTime),
        "dueDateTime": _iso(record.dueDateTime),
        "status": current.status,
        "statusText": current.statusText,
        "statusChanged": _iso(current.statusChanged),
        "published": _iso(record.published),
        "markedUnread": None,
        "notifications": [],
    }
    return body


def details(record: CorrespondenceRecord, manifest: RequestManifest) -> dict[str, Any]:
    body = overview(record, manifest)
    # Upstream orders the history by time (StatusHistory = Statuses.OrderBy(StatusChanged)).
    history = sorted(record.statusHistory, key=lambda e: as_utc(e.statusChanged))
    body["statusHistory"] = [
        {"status": e.status, "statusText": e.statusText, "statusChanged": _iso(e.statusChanged)}
        for e in history
    ]
    return body


def load_for_sender(caller: Any, correspondence_id: uuid.UUID) -> tuple[CorrespondenceRecord, RequestManifest, str]:
    """404/1001 when unknown (or never committed); 401/4001 when another organisation's."""
    found = store.read_visible(correspondence_id)
    if found is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    record, manifest, etag = found
    access.ensure_owner(caller, record.sender)
    return record, manifest, etag


def get_overview(caller: Any, correspondence_id: uuid.UUID) -> dict[str, Any]:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    return overview(record, manifest)


def get_details(caller: Any, correspondence_id: uuid.UUID) -> dict[str, Any]:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    return details(record, manifest)
