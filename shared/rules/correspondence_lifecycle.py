"""The correspondence state machine (behaviour §7.1), in one place.

Statuses are append-only rows; the current status is the numerically highest one, ignoring
``Fetched``::

    Initialized -> ReadyForPublish (every attachment Published, or none) -> Published
    non-final -> Failed              (an attachment failed: malware, purged, expired)
    Initialized/ReadyForPublish/Failed -> PurgedByAltinn   (the sender purges it)

Each function changes a record and returns a ``Decision`` (write it or not, and what it
decided); the use cases run them inside ``correspondence_store.update_record`` (ETag), so a
publisher and a purge racing for one correspondence never both win. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Optional

from shared.core import errors
from shared.core.clock import utcnow
from shared.core.decisions import Decision, keep, save
from shared.core.documents import CorrespondenceRecord
from shared.core.statuses import (
    FINAL_FOR_PUBLISHING,
    PURGEABLE_BY_SENDER,
    PURGED_CORRESPONDENCE,
    CorrespondenceStatus,
)

PublishOutcome = Literal["final", "failed", "waiting", "published"]


@dataclass(frozen=True)
class AttachmentsState:
    """What the publisher knows of a request's attachments (read once per request)."""

    all_published: bool
    failure: Optional[str] = None  # why one of them can never be published


def publish(record: CorrespondenceRecord, attachments: AttachmentsState, now: datetime) -> Decision[PublishOutcome]:
    """Due now: ``ReadyForPublish`` (if missing) then ``Published``, once every attachment is
    published; ``Failed`` when one never will be; final correspondences are left alone."""
    if record.has_status(*FINAL_FOR_PUBLISHING):
        return keep("final")
    record.committed = True
    if attachments.failure is not None:
        record.add_status(CorrespondenceStatus.Failed, f"Publish failed: {attachments.failure}", now)
        return save("failed")
    if not attachments.all_published:
        return keep("waiting")
    if not record.has_status(CorrespondenceStatus.ReadyForPublish):
        record.add_status(CorrespondenceStatus.ReadyForPublish, when=now)
    record.add_status(CorrespondenceStatus.Published, when=utcnow())
    record.published = record.statusHistory[-1].statusChanged
    return save("published")


def fail(record: CorrespondenceRecord, text: str, now: datetime) -> Decision[None]:
    """An attachment it links failed (a malicious scan result): ``Failed``, unless final."""
    if record.has_status(CorrespondenceStatus.Failed, *PURGED_CORRESPONDENCE):
        return keep()
    record.add_status(CorrespondenceStatus.Failed, text, now)
    return save()


def purge(record: CorrespondenceRecord) -> Decision[bool]:
    """The sender withdraws it (behaviour §7.1): 1013 unless its current status is
    Initialized, ReadyForPublish or Failed. Outcome: True when it was purged already (the use
    case answers 1014 after finishing the release steps)."""
    if record.has_status(*PURGED_CORRESPONDENCE):
        return keep(True)
    if record.current().status not in PURGEABLE_BY_SENDER:
        raise errors.CANT_PURGE_PUBLISHED.error()
    record.add_status(CorrespondenceStatus.PurgedByAltinn)
    return save(False)
