"""``DELETE /correspondence/api/v1/attachment/{attachmentId}``: purge (behaviour §6.7).

2001, 4001, 2006, 2018, 2007; then ``Purged`` (atomically with the checks) and the blob
deleted. The record stays, so the id keeps answering 2006/2019. Purging cancels a chunked
upload in progress and releases its quota.
"""

from __future__ import annotations

import logging
import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.identifiers import organization_of
from shared.core.operations import Answer, Operation
from shared.rules import attachment_lifecycle as lifecycle
from shared.storage import blocks
from shared.use_cases.attachment_access import accessible, update_existing
from shared.use_cases.upload_attachment import discard_upload

logger = logging.getLogger(__name__)

OPERATION = Operation(
    summary="Purge an attachment (its file; the record stays to answer 2006)",
    tags=("Attachment",),
    answers=(Answer(204, "Purged."),),
    errors=(
        errors.ATTACHMENT_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.FILE_ALREADY_PURGED,
        errors.ATTACHMENT_EXPIRED_CANT_PURGE,
        errors.PURGE_LINKED_ATTACHMENT,
    ),
)


def purge_attachment(caller: Caller, attachment_id: uuid.UUID) -> None:
    lifecycle.check_purgeable(accessible(caller, attachment_id))
    updated = update_existing(attachment_id, lifecycle.purge)
    blocks.delete_blob(attachment_id)
    discard_upload(organization_of(updated.document.sender), attachment_id, updated.outcome)
    logger.info("attachment %s purged", attachment_id)
