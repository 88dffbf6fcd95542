"""``GET /correspondence/api/v1/correspondence/{correspondenceId}``: the sender's view of one
correspondence (upstream ``CorrespondenceOverviewExt``)."""

from __future__ import annotations

import uuid

from shared.auth.access import ensure_owner
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.documents import CorrespondenceRecord, RequestManifest
from shared.core.operations import Answer, Operation
from shared.models.responses import (
    CorrespondenceAttachmentOverview,
    CorrespondenceContentOverview,
    CorrespondenceOverview,
)
from shared.storage import attachment_store
from shared.storage import correspondence_store as store

OPERATION = Operation(
    summary="Get a correspondence (sender's overview)",
    tags=("Correspondence",),
    answers=(Answer(200, "The correspondence.", CorrespondenceOverview),),
    errors=(errors.CORRESPONDENCE_NOT_FOUND, errors.NO_ACCESS_TO_RESOURCE),
)

# Every attachment here is stored by this service (upstream's value for its own storage).
DATA_LOCATION = "AltinnCorrespondenceAttachment"


def _attachment_entries(record: CorrespondenceRecord) -> list[CorrespondenceAttachmentOverview]:
    entries = []
    for attachment_id in record.attachmentIds:
        attachment = attachment_store.read(attachment_id)
        if attachment is None:
            continue
        latest = attachment.current() if attachment.statusHistory else None
        entries.append(
            CorrespondenceAttachmentOverview(
                id=attachment.id,
                file_name=attachment.fileName,
                display_name=attachment.displayName,
                is_encrypted=attachment.isEncrypted,
                checksum=attachment.checksum,
                senders_reference=attachment.sendersReference,
                data_type=attachment.dataType,
                data_location_type=DATA_LOCATION,
                created=attachment.created,
                status=latest.status if latest else None,
                status_text=latest.statusText if latest else None,
                status_changed=latest.statusChanged if latest else None,
            )
        )
    return entries


def overview_fields(record: CorrespondenceRecord, manifest: RequestManifest) -> dict:
    """The overview's fields by name: the request's shared ``correspondence`` and the record's
    own state (the details add the history)."""
    shared = manifest.correspondence
    content = shared.get("content") or {}
    current = record.current()
    return dict(
        correspondence_id=record.id,
        resource_id=record.resourceId,
        sender=record.sender,
        senders_reference=record.sendersReference,
        message_sender=shared.get("messageSender"),
        recipient=record.recipient,
        content=CorrespondenceContentOverview(
            language=content.get("language"),
            message_title=content["messageTitle"],
            message_summary=content.get("messageSummary"),
            message_body=content["messageBody"],
            attachments=_attachment_entries(record),
        ),
        created=record.created,
        requested_publish_time=record.requestedPublishTime,
        due_date_time=record.dueDateTime,
        external_references=shared.get("externalReferences"),
        property_list=shared.get("propertyList") or {},
        reply_options=shared.get("replyOptions") or [],
        notification=shared.get("notification"),
        ignore_reservation=shared.get("ignoreReservation"),
        is_confirmation_needed=bool(shared.get("isConfirmationNeeded")),
        is_confidential=bool(shared.get("isConfidential")),
        allow_forwarding=bool(shared.get("allowForwarding")),
        status=current.status,
        status_text=current.statusText,
        status_changed=current.statusChanged,
        published=record.published,
    )


def load_for_sender(caller: Caller, correspondence_id: uuid.UUID) -> tuple[CorrespondenceRecord, RequestManifest, str]:
    """404/1001 when unknown (or never committed); 401/4001 when another organisation's."""
    found = store.read_visible(correspondence_id)
    if found is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    record, manifest, etag = found
    ensure_owner(caller, record.sender)
    return record, manifest, etag


def get_correspondence(caller: Caller, correspondence_id: uuid.UUID) -> CorrespondenceOverview:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    return CorrespondenceOverview(**overview_fields(record, manifest))
