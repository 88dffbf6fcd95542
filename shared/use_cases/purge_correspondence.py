"""``DELETE /correspondence/api/v1/correspondence/{correspondenceId}/purge``: the sender purges it.

Upstream (``PurgeCorrespondenceHandler`` / ``PurgeCorrespondenceHelper.ValidatePurgeRequestSender``):
404/1001 unknown; 401/4001 another organisation's; 400/1014 when it has a purged status;
400/1013 unless its current (highest) status is ``Initialized``, ``ReadyForPublish`` or
``Failed``; otherwise a ``PurgedByAltinn`` status is added, its attachments are released and
the answer is 200 with the correspondence id as a JSON string.

The check and the new status are one ETag-guarded read-modify-write of the record, like the
publisher's ``Published``: when purge and publisher race, exactly one of them wins - a purge
that loses answers 1013, a publisher that loses sees a final status and leaves it alone.

After the status: the attachments' links to this correspondence are removed (an attachment no
longer linked anywhere may then be purged through the attachment API; upstream also purges it
at once) and the listing index is updated. A purge repeated after a failure in those steps
answers 1014 as upstream does, but first finishes them (both are idempotent).
"""

from __future__ import annotations

import logging
import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.documents import CorrespondenceRecord
from shared.core.operations import Answer, Operation
from shared.core.statuses import CorrespondenceStatus
from shared.rules import correspondence_lifecycle as lifecycle
from shared.storage import correspondence_index
from shared.storage import correspondence_store as store
from shared.use_cases.attachment_links import AttachmentLinks
from shared.use_cases.get_correspondence import load_for_sender

logger = logging.getLogger(__name__)

OPERATION = Operation(
    summary="Purge a correspondence before it is published (the sender withdraws it)",
    tags=("Correspondence",),
    answers=(Answer(200, "Purged: the correspondence id (a JSON string).", {"type": "string", "format": "uuid"}),),
    errors=(
        errors.CORRESPONDENCE_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.ALREADY_PURGED,
        errors.CANT_PURGE_PUBLISHED,
    ),
)


def _release(record: CorrespondenceRecord) -> None:
    links = AttachmentLinks()
    for attachment_id in record.attachmentIds:
        links.unlink(attachment_id, [record.id])
    correspondence_index.set_status(record, profile="request")


def purge_correspondence(caller: Caller, correspondence_id: uuid.UUID) -> uuid.UUID:
    load_for_sender(caller, correspondence_id)  # 404/1001, 401/4001
    updated = store.update_record(correspondence_id, lifecycle.purge)
    if updated is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    record = updated.document
    if updated.outcome:  # purged before
        if record.has_status(CorrespondenceStatus.PurgedByAltinn):
            _release(record)  # finishes a purge whose release steps failed before
        raise errors.ALREADY_PURGED.error()
    logger.info("correspondence %s purged by its sender", correspondence_id)
    _release(record)
    return correspondence_id
