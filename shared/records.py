"""Stored documents (what lives in Blob Storage), kept apart from the API models.

* ``CorrespondenceRecord`` - one small document per correspondence (per recipient): who,
  what resource, references, timestamps and an append-only status history.
* ``RequestManifest`` - one document per accepted initialize request: the content and options
  shared by all its recipients. Writing it is the commit point: a correspondence whose
  manifest does not exist was never accepted and is never shown or published.
* ``IdempotencyClaim`` - the atomic claim of an ``idempotentKey``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Status names and the integer values upstream orders them by (CorrespondenceStatusExt).
CORRESPONDENCE_STATUS_ORDER = {
    "Initialized": 0,
    "ReadyForPublish": 1,
    "Published": 2,
    "Fetched": 3,
    "Read": 4,
    "Replied": 5,
    "Confirmed": 6,
    "PurgedByRecipient": 7,
    "PurgedByAltinn": 8,
    "Archived": 9,
    "Reserved": 10,
    "Failed": 11,
    "AttachmentsDownloaded": 12,
    "Forwarded": 13,
}
FINAL_FOR_PUBLISHING = frozenset({"Published", "Failed", "PurgedByAltinn", "PurgedByRecipient"})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Stored times may come back without an offset (older documents): they are UTC."""
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")


class StatusEvent(_Stored):
    status: str
    statusText: str
    statusChanged: datetime


class CorrespondenceRecord(_Stored):
    id: uuid.UUID
    requestId: uuid.UUID
    index: int
    sender: str
    recipient: str
    resourceId: str
    sendersReference: str
    created: datetime
    requestedPublishTime: datetime
    dueDateTime: datetime | None = None
    published: datetime | None = None
    attachmentIds: list[uuid.UUID] = Field(default_factory=list)
    idempotentKey: uuid.UUID | None = None
    # True once the publisher has seen the manifest: readers may then skip that check.
    committed: bool = False
    statusHistory: list[StatusEvent] = Field(default_factory=list)

    def has_status(self, status: str) -> bool:
        return any(event.status == status for event in self.statusHistory)

    def current(self) -> StatusEvent:
        """Upstream reports the numerically highest status, ignoring Fetched."""
        candidates = [e for e in self.statusHistory if e.status != "Fetched"] or self.statusHistory
        return max(candidates, key=lambda e: (CORRESPONDENCE_STATUS_ORDER.get(e.status, -1), e.statusChanged))

    def add_status(self, status: str, text: str | None = None, when: datetime | None = None) -> None:
        self.statusHistory.append(StatusEvent(status=status, statusText=text or status, statusChanged=when or utcnow()))


class RequestManifest(_Stored):
    requestId: uuid.UUID
    sender: str
    resourceId: str
    created: datetime
    requestedPublishTime: datetime
    correspondenceIds: list[uuid.UUID]
    recipients: list[str]
    attachmentIds: list[uuid.UUID] = Field(default_factory=list)
    idempotentKey: uuid.UUID | None = None
    # The accepted ``correspondence`` object (content, reply options, notification, ...)
    # exactly as the API models dumped it: shared by every recipient, stored once.
    correspondence: dict[str, Any]


class IdempotencyClaim(_Stored):
    key: uuid.UUID
    correspondenceId: uuid.UUID
    requestId: uuid.UUID
    created: datetime


def correspondence_ids(request_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    """Ids derived from the request id, so a queue message only needs (requestId, count).

    The request id is random (uuid4), so these ids are as unguessable as random ones.
    """
    return [uuid.uuid5(request_id, str(index)) for index in range(count)]
