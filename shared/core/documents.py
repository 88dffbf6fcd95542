"""Stored documents (what lives in Blob Storage), kept apart from the API models.

* ``CorrespondenceRecord`` - one small document per correspondence (per recipient): who,
  what resource, references, timestamps and an append-only status history.
* ``RequestManifest`` - one document per accepted initialize request: the content and options
  shared by all its recipients. Writing it is the commit point: a correspondence whose
  manifest does not exist was never accepted and is never shown or published.
* ``IdempotencyClaim`` - the atomic claim of an ``idempotentKey``.
* ``AttachmentRecord`` - an attachment's metadata, status history, links and upload state.

Documents hold data and answer questions about it (``has_status``, ``current``); what may
happen to them is decided in ``shared.rules`` (the lifecycles), never here or in the stores.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.core.clock import as_utc, utcnow
from shared.core.statuses import AttachmentStatus, CorrespondenceStatus


class Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")


class CorrespondenceStatusEvent(Stored):
    status: CorrespondenceStatus
    statusText: str
    statusChanged: datetime


class AttachmentStatusEvent(Stored):
    status: AttachmentStatus
    statusText: str
    statusChanged: datetime


class CorrespondenceRecord(Stored):
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
    statusHistory: list[CorrespondenceStatusEvent] = Field(default_factory=list)

    def has_status(self, *statuses: CorrespondenceStatus) -> bool:
        return any(event.status in statuses for event in self.statusHistory)

    def current(self) -> CorrespondenceStatusEvent:
        """Upstream reports the numerically highest status, ignoring Fetched."""
        candidates = [e for e in self.statusHistory if e.status is not CorrespondenceStatus.Fetched] or self.statusHistory
        return max(candidates, key=lambda e: (e.status.number, e.statusChanged))

    def search_status(self) -> CorrespondenceStatus:
        """The latest status by time, ignoring Fetched: what upstream's search filters on."""
        latest = None
        for event in self.statusHistory:
            if event.status is CorrespondenceStatus.Fetched:
                continue
            if latest is None or as_utc(event.statusChanged) >= as_utc(latest.statusChanged):
                latest = event
        return latest.status if latest is not None else CorrespondenceStatus.Initialized

    def add_status(self, status: CorrespondenceStatus, text: str | None = None, when: datetime | None = None) -> None:
        self.statusHistory.append(
            CorrespondenceStatusEvent(status=status, statusText=text or status, statusChanged=when or utcnow())
        )


class RequestManifest(Stored):
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


class IdempotencyClaim(Stored):
    key: uuid.UUID
    correspondenceId: uuid.UUID
    requestId: uuid.UUID
    created: datetime


def correspondence_ids(request_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    """Ids derived from the request id, so a queue message only needs (requestId, count).

    The request id is random (uuid4), so these ids are as unguessable as random ones.
    """
    return [uuid.uuid5(request_id, str(index)) for index in range(count)]


class UploadState(Stored):
    """An upload in progress (absent when none is).

    ``single``: one request carries the whole file; the state only marks the claim.
    ``chunked``: ``Content-Range`` requests; ``ranges`` are the byte ranges ``[start, end)``
    already staged as blocks (coalesced, sorted). Blocks are laid out on a fixed grid of
    ``blockSize`` bytes (block ``i`` covers ``[i*blockSize, (i+1)*blockSize)``, the last one
    shorter), so that any chunk boundaries give the same block list. ``hashedTo`` is the length
    of the prefix whose MD5 state ``md5State`` (serialised by ``md5Impl``) holds; the rest is
    hashed at completion by reading the committed blob back.
    """

    mode: Literal["single", "chunked"]
    started: datetime
    total: int | None = None
    blockSize: int | None = None
    ranges: list[tuple[int, int]] = Field(default_factory=list)
    hashedTo: int = 0
    md5State: str | None = None
    md5Impl: str | None = None
    # Set by the request that stored the last missing range while it commits and verifies.
    completing: datetime | None = None

    def received(self) -> int:
        return sum(end - start for start, end in self.ranges)

    def is_complete(self) -> bool:
        return self.total is not None and self.ranges == [(0, self.total)]


@dataclass
class Md5Advance:
    """How far a chunk advanced the MD5 of an upload (``shared.storage.md5_state``)."""

    hashed_from: int  # the hashedTo this state continues
    hashed_to: int
    state: str


class AttachmentRecord(Stored):
    id: uuid.UUID
    resourceId: str
    sender: str  # urn:altinn:organization:identifier-no:<owner org>
    fileName: str | None = None
    displayName: str | None = None
    isEncrypted: bool = False
    checksum: str | None = ""
    sendersReference: str
    expirationInDays: int | None = None
    dataType: str
    size: int | None = None
    created: datetime
    statusHistory: list[AttachmentStatusEvent] = Field(default_factory=list)
    correspondenceIds: list[uuid.UUID] = Field(default_factory=list)
    # The latest expiry of its links (``expirationInDays`` after each linking correspondence's
    # publish time); None while no link gives it one (behaviour §3.6, §7.2).
    expiresAt: datetime | None = None
    upload: UploadState | None = None

    def has_status(self, *statuses: AttachmentStatus) -> bool:
        return any(event.status in statuses for event in self.statusHistory)

    def current(self) -> AttachmentStatusEvent:
        """The latest row by time; rows written in the same instant: the later one."""
        indexed = list(enumerate(self.statusHistory))
        return max(indexed, key=lambda item: (item[1].statusChanged, item[0]))[1]

    @property
    def status(self) -> AttachmentStatus:
        return self.current().status

    def add_status(self, status: AttachmentStatus, text: str | None = None, when: datetime | None = None) -> None:
        when = when or utcnow()
        if self.statusHistory:  # keep "latest by time" equal to "last appended"
            when = max(when, max(e.statusChanged for e in self.statusHistory))
        self.statusHistory.append(AttachmentStatusEvent(status=status, statusText=text or status, statusChanged=when))
