"""The correspondence state machine (behaviour §7.1), in one place.

Statuses are append-only rows; the current status is the numerically highest one, ignoring
``Fetched``::

    Initialized -> ReadyForPublish (every attachment Published, or none) -> Published
    non-final -> Failed              (an attachment failed: malware, purged, expired)
    Initialized/ReadyForPublish/Failed -> PurgedByAltinn   (the sender purges it)

A request's correspondences share one lifecycle (``RequestState.statusHistory``); one that is
purged on its own leaves it (``RequestState.diverge``) and keeps its own history from there.
Each function changes a state and returns a ``Decision`` (write it or not, and what it
decided); the use cases run them inside ``request_states.update`` (ETag), so a publisher and a
purge racing for one request never both win. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Optional

from shared.core import errors
from shared.core.clock import utcnow
from shared.core.decisions import Decision, keep, save
from shared.core.documents import RequestState
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


def publish(state: RequestState, attachments: AttachmentsState, now: datetime) -> Decision[PublishOutcome]:
    """Due now: ``ReadyForPublish`` (if missing) then ``Published``, once every attachment is
    published; ``Failed`` when one never will be. Applies to every correspondence still sharing
    the request's lifecycle (a purged one has left it); a final request is left alone."""
    if state.shares(*FINAL_FOR_PUBLISHING) or not state.sharing():
        return keep("final")
    if attachments.failure is not None:
        state.add_status(CorrespondenceStatus.Failed, f"Publish failed: {attachments.failure}", now)
        return save("failed")
    if not attachments.all_published:
        return keep("waiting")
    if not state.shares(CorrespondenceStatus.ReadyForPublish):
        state.add_status(CorrespondenceStatus.ReadyForPublish, when=now)
    state.add_status(CorrespondenceStatus.Published, when=utcnow())
    return save("published")


def fail(state: RequestState, text: str, now: datetime) -> Decision[None]:
    """An attachment it links failed (a malicious scan result): ``Failed``, even after it was
    published, unless failed already; purged correspondences stay purged."""
    if state.shares(CorrespondenceStatus.Failed) or not state.sharing():
        return keep()
    state.add_status(CorrespondenceStatus.Failed, text, now)
    return save()


def purge(state: RequestState, index: int) -> Decision[bool]:
    """The sender withdraws one correspondence (behaviour §7.1): 1013 unless its current status
    is Initialized, ReadyForPublish or Failed. It leaves the request's shared lifecycle with
    ``PurgedByAltinn``; the others are untouched. Outcome: True when it was purged already (the
    use case answers 1014 after finishing the release steps)."""
    if state.has_status(index, *PURGED_CORRESPONDENCE):
        return keep(True)
    if state.current(index).status not in PURGEABLE_BY_SENDER:
        raise errors.CANT_PURGE_PUBLISHED.error()
    state.diverge(index, CorrespondenceStatus.PurgedByAltinn)
    return save(False)
