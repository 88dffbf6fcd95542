"""Purge a correspondence as its sender: ``DELETE /correspondence/api/v1/correspondence/{id}/purge``.

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
from typing import Any

from shared import correspondence_index, errors
from shared import correspondence_store as store
from shared.correspondence_overview import load_for_sender
from shared.records import CorrespondenceRecord

logger = logging.getLogger(__name__)

PURGEABLE_FOR_SENDER = frozenset({"Initialized", "ReadyForPublish", "Failed"})
PURGED = ("PurgedByAltinn", "PurgedByRecipient")


def _release(record: CorrespondenceRecord) -> None:
    if record.attachmentIds:
        from shared import attachment_store

        for attachment_id in record.attachmentIds:
            attachment_store.unlink(attachment_id, [record.id])
    correspondence_index.set_status(record, profile="request")


def purge(caller: Any, correspondence_id: uuid.UUID) -> uuid.UUID:
    load_for_sender(caller, correspondence_id)  # 404/1001, 401/4001
    state = {"already": False}

    def change(record: CorrespondenceRecord) -> bool:
        if any(record.has_status(status) for status in PURGED):
            state["already"] = True
            return False
        if record.current().status not in PURGEABLE_FOR_SENDER:
            raise errors.CANT_PURGE_PUBLISHED.error()
        record.add_status("PurgedByAltinn")
        return True

    record = store.update_record(correspondence_id, change)
    if record is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    if state["already"]:
        if record.has_status("PurgedByAltinn"):
            _release(record)  # finishes a purge whose release steps failed before
        raise errors.ALREADY_PURGED.error()
    logger.info("correspondence %s purged by its sender", correspondence_id)
    _release(record)
    return correspondence_id
