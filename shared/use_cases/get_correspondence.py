"""``GET /correspondence/api/v1/correspondence/{correspondenceId}``: the sender's view of one
correspondence (upstream ``CorrespondenceOverviewExt``).

Two reads find it, whatever the size of its request: the request's content and its state
(``correspondence_store.read_visible``), plus one per attachment for the attachment list.
"""

from __future__ import annotations

import uuid

from shared.auth.access import ensure_owner
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.documents import RequestContent
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


def _attachment_entries(content: RequestContent) -> list[CorrespondenceAttachmentOverview]:
    entries = []
    for attachment_id in content.attachmentIds:
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


def overview_fields(found: store.Visible) -> dict:
    """The overview's fields by name: the request's shared ``correspondence`` and this
    correspondence's place in its lifecycle (the details add the history)."""
    content, state, index = found.content, found.state, found.index
    shared = content.correspondence
    text = shared.get("content") or {}
    current = state.current(index)
    return dict(
        correspondence_id=found.correspondence_id,
        resource_id=content.resourceId,
        sender=content.sender,
        senders_reference=content.sendersReference,
        message_sender=shared.get("messageSender"),
        recipient=content.recipients[index],
        content=CorrespondenceContentOverview(
            language=text.get("language"),
            message_title=text["messageTitle"],
            message_summary=text.get("messageSummary"),
            message_body=text["messageBody"],
            attachments=_attachment_entries(content),
        ),
        created=content.created,
        requested_publish_time=content.requestedPublishTime,
        due_date_time=content.dueDateTime,
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
        published=state.published(index),
    )


def load_for_sender(caller: Caller, correspondence_id: uuid.UUID) -> store.Visible:
    """404/1001 when unknown (or never committed); 401/4001 when another organisation's."""
    found = store.read_visible(correspondence_id)
    if found is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    ensure_owner(caller, found.content.sender)
    return found


def get_correspondence(caller: Caller, correspondence_id: uuid.UUID) -> CorrespondenceOverview:
    return CorrespondenceOverview(**overview_fields(load_for_sender(caller, correspondence_id)))
