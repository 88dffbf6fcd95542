"""``DELETE /correspondence/api/v1/correspondence/{correspondenceId}/purge``: the sender purges it.

Upstream (``PurgeCorrespondenceHandler`` / ``PurgeCorrespondenceHelper.ValidatePurgeRequestSender``):
404/1001 unknown; 401/4001 another organisation's; 400/1014 when it has a purged status;
400/1013 unless its current (highest) status is ``Initialized``, ``ReadyForPublish`` or
``Failed``; otherwise a ``PurgedByAltinn`` status is added, its attachments are released and
the answer is 200 with the correspondence id as a JSON string.

The check and the new status are one ETag-guarded read-modify-write of the request's state,
like the publisher's ``Published``: when purge and publisher race, exactly one of them wins - a
purge that loses answers 1013, a publisher that loses publishes every correspondence but the
purged one. The purged correspondence leaves its request's shared lifecycle (a
``Divergence``); the others are untouched. The state is also the search listing, so the purge
is listed as soon as it is written.

After the status, the correspondence lets go of its attachments (an attachment no longer used
by any correspondence may then be purged through the attachment API; upstream also purges it at
once). A purge repeated after a failure in that step answers 1014 as upstream does, but first
finishes it (it is idempotent).
"""

from __future__ import annotations

import logging
import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.operations import Answer, Operation
from shared.core.statuses import CorrespondenceStatus
from shared.rules import correspondence_lifecycle as lifecycle
from shared.storage import correspondence_store as store
from shared.storage import request_states
from shared.use_cases.attachment_links import release
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


def _release(found: store.Visible) -> None:
    for attachment_id in found.state.attachmentIds:
        release(attachment_id, found.state.requestKey, found.index)


def purge_correspondence(caller: Caller, correspondence_id: uuid.UUID) -> uuid.UUID:
    found = load_for_sender(caller, correspondence_id)  # 404/1001, 401/4001
    updated = request_states.update(found.keys, lambda state: lifecycle.purge(state, found.index))
    if updated is None:
        raise errors.CORRESPONDENCE_NOT_FOUND.error()
    state, purged_before = updated
    if purged_before:
        if state.has_status(found.index, CorrespondenceStatus.PurgedByAltinn):
            _release(found)  # finishes a purge whose release step failed before
        raise errors.ALREADY_PURGED.error()
    logger.info("correspondence %s purged by its sender", correspondence_id)
    _release(found)
    return correspondence_id
