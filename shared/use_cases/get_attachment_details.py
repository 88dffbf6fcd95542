"""``GET /correspondence/api/v1/attachment/{attachmentId}/details``: the overview plus the status
history (behaviour §6.5)."""

from __future__ import annotations

import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.operations import Answer, Operation
from shared.models.responses import AttachmentDetails, AttachmentStatusEventView
from shared.use_cases.attachment_access import accessible
from shared.use_cases.get_attachment import overview_fields

OPERATION = Operation(
    summary="Get an attachment with its status history",
    tags=("Attachment",),
    answers=(Answer(200, "The attachment and its status history.", AttachmentDetails),),
    errors=(errors.ATTACHMENT_NOT_FOUND, errors.NO_ACCESS_TO_RESOURCE),
)


def get_attachment_details(caller: Caller, attachment_id: uuid.UUID) -> AttachmentDetails:
    record = accessible(caller, attachment_id)
    fields = overview_fields(record)
    # Upstream's details differ from the overview here (behaviour §6.5).
    fields["display_name"] = record.displayName if record.displayName is not None else record.fileName
    fields["checksum"] = record.checksum if record.checksum is not None else ""
    return AttachmentDetails(
        **fields,
        status_history=[
            AttachmentStatusEventView(status=e.status, status_text=e.statusText, status_changed=e.statusChanged)
            for e in record.statusHistory
        ],
    )
