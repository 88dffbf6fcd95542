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
from datetime import datetime, timedelta

from shared.core.capacity import capacity
from shared.core.clock import utcnow
from shared.core.statuses import CorrespondenceStatus
from shared.storage import publish_queue, request_states
from shared.storage.publish_queue import PublishMessage

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=10)
MAX_PER_RUN = 1000


def sweep_correspondences(now: datetime | None = None) -> int:
    """Re-queue requests stuck in ReadyForPublish; returns how many."""
    now = now or utcnow()
    with capacity.background_work():
        stuck = request_states.stuck(CorrespondenceStatus.ReadyForPublish, now - STUCK_AFTER, MAX_PER_RUN)
        for state in stuck:
            publish_queue.send(PublishMessage.for_request(state), timedelta(0), profile="background")
    if stuck:
        logger.warning("sweeper re-queued %d request(s) stuck in ReadyForPublish", len(stuck))
    return len(stuck)
