"""``POST /correspondence/api/v1/attachment``: initialize a shared attachment (behaviour §6.2).

Order: resource owner (1036) -> access (4001) -> resource type (4009) -> file-name rules (2010,
2011, 2013, 2012, 2021) -> expiration (2017) -> a new record, ``Initialized``. The answer is the
new id (upstream answers it as a JSON string).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from shared.auth import access
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import utcnow
from shared.core.documents import AttachmentRecord
from shared.core.operations import Answer, Operation
from shared.core.statuses import AttachmentStatus
from shared.models.attachment import BaseAttachment, InitializeAttachmentRequest
from shared.models.binding import validate_model
from shared.rules.attachment_files import (
    check_expiration_days,
    check_file_name,
    data_type_for,
)
from shared.storage import attachment_store

logger = logging.getLogger(__name__)

OPERATION = Operation(
    summary="Initialize an attachment (metadata); upload its file next",
    tags=("Attachment",),
    request=InitializeAttachmentRequest,
    request_example={
        "resourceId": "ttd-corr-1",
        "fileName": "letter.pdf",
        "sendersReference": "case-4711-letter",
        "expirationInDays": 14,
    },
    answers=(Answer(200, "The new attachment's id (a JSON string).", {"type": "string", "format": "uuid"}),),
    errors=(
        errors.SERVICE_OWNER_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.ATTACHMENT_RESOURCE_TYPE,
        errors.FILENAME_MISSING,
        errors.FILENAME_TOO_LONG,
        errors.FILETYPE_NOT_ALLOWED,
        errors.FILENAME_INVALID,
        errors.FILENAME_RESERVED,
        errors.EXPIRATION_TOO_SHORT,
    ),
    links={
        name: {"operationId": operation_id, "parameters": {"attachmentId": "$response.body"}}
        for name, operation_id in (
            ("GetAttachment", "get_attachment"),
            ("GetAttachmentDetails", "get_attachment_details"),
            ("UploadAttachment", "upload_attachment"),
            ("DownloadAttachment", "download_attachment"),
            ("PurgeAttachment", "purge_attachment"),
        )
    },
)


def initialize_attachment(caller: Caller, body: Any) -> uuid.UUID:
    request = validate_model(InitializeAttachmentRequest, body)
    resource = access.authorize_sender(  # 1036 -> 4001 -> 4009
        caller,
        request.resource_id,
        allowed_types=(access.CORRESPONDENCE_SERVICE, access.GENERIC_ACCESS_RESOURCE),
        type_error=errors.ATTACHMENT_RESOURCE_TYPE,
    )
    check_file_name(request.file_name)  # 2010, 2011, 2013, 2012, 2021
    check_expiration_days(request.expiration_in_days)  # 2017
    return create_attachment(request.resource_id, access.sender_urn(resource.owner_organization), request)


def create_attachment(resource_id: str, sender: str, metadata: BaseAttachment) -> uuid.UUID:
    """Store a new attachment record (``Initialized``) from validated metadata; no checks.

    Used here and by the multipart initialize correspondence, which has checked access and
    the attachment rules itself.
    """
    record = AttachmentRecord(
        id=uuid.uuid4(),
        resourceId=resource_id,
        sender=sender,
        fileName=metadata.file_name,
        displayName=metadata.display_name,
        isEncrypted=metadata.is_encrypted,
        checksum=metadata.checksum,
        sendersReference=metadata.senders_reference,
        expirationInDays=metadata.expiration_in_days,
        dataType=data_type_for(metadata.file_name),
        created=utcnow(),
    )
    record.add_status(AttachmentStatus.Initialized, when=record.created)
    attachment_store.create(record)
    logger.info("attachment %s initialized for resource %s", record.id, record.resourceId)
    return record.id
