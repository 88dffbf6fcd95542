"""``GET /correspondence/api/v1/attachment/{attachmentId}``: an attachment's overview (behaviour §6.4)."""

from __future__ import annotations

import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.documents import AttachmentRecord
from shared.core.operations import Answer, Operation
from shared.models.responses import AttachmentOverview
from shared.use_cases.attachment_access import accessible

OPERATION = Operation(
    summary="Get an attachment's overview",
    tags=("Attachment",),
    answers=(Answer(200, "The attachment.", AttachmentOverview),),
    errors=(errors.ATTACHMENT_NOT_FOUND, errors.NO_ACCESS_TO_RESOURCE),
)


def overview_fields(record: AttachmentRecord) -> dict:
    """The overview's fields by name (the details change two and add the history)."""
    current = record.current()
    return dict(
        attachment_id=record.id,
        resource_id=record.resourceId,
        sender=record.sender,
        file_name=record.fileName,
        display_name=record.displayName,
        is_encrypted=False,  # quirk Q11: upstream never maps it
        checksum=record.checksum,
        senders_reference=record.sendersReference,
        expiration_in_days=record.expirationInDays,
        status=current.status,
        status_text=current.statusText,
        status_changed=current.statusChanged,
        correspondence_ids=record.correspondenceIds,
        data_type=record.dataType,
    )


def overview_of(record: AttachmentRecord) -> AttachmentOverview:
    return AttachmentOverview(**overview_fields(record))


def get_attachment(caller: Caller, attachment_id: uuid.UUID) -> AttachmentOverview:
    return overview_of(accessible(caller, attachment_id))
