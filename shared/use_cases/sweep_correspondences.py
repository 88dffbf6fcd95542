"""The sweeper: finds correspondences that should have been published but were not.

Every accepted request has a publish message, and the publisher re-schedules its own waits,
so in normal operation nothing needs sweeping. The sweeper is the safety net for a message
that was lost anyway (moved to the poison queue and the cause since fixed, deleted by hand, a
queue recreated): a correspondence still ``ReadyForPublish`` well after its publish time gets a
new publish message. Publishing is idempotent, so a spare message costs nothing.

Correspondences waiting for a malware scan (``Initialized``) are not swept: their own message
keeps coming back until the scan result arrives.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from itertools import islice

from shared.core.clock import utcnow
from shared.core.statuses import CorrespondenceStatus
from shared.storage import correspondence_index
from shared.storage import correspondence_store as store

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=10)
MAX_PER_RUN = 1000


def sweep_correspondences(now: datetime | None = None) -> int:
    """Re-queue requests with correspondences stuck in ReadyForPublish; returns how many."""
    now = now or utcnow()
    entities = correspondence_index.table("background").query_entities(
        "status eq @status and requestedPublishTime lt @cutoff",
        parameters={"status": CorrespondenceStatus.ReadyForPublish.name, "cutoff": now - STUCK_AFTER},
        select=["requestId"],
    )
    request_ids = {uuid.UUID(e["requestId"]) for e in islice(entities, MAX_PER_RUN)}
    requeued = 0
    for request_id in request_ids:
        manifest = store.read_manifest(request_id)
        if manifest is None:
            continue
        store.send_publish_message(store.PublishMessage.for_request(manifest), timedelta(0), profile="background")
        requeued += 1
    if requeued:
        logger.warning("sweeper re-queued %d request(s) stuck in ReadyForPublish", requeued)
    return requeued
