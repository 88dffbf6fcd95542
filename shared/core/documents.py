"""Stored documents (what lives in Azure Storage), kept apart from the API models.

A request of up to 500 recipients is stored once, not per recipient: everything its
correspondences share (content, attachments, publish time and lifecycle) lives in one
``RequestContent`` (immutable) and one ``RequestState`` (its lifecycle, shared by every
recipient; a correspondence that leaves it gets a ``Divergence``). A correspondence is a
position in its request, named by an id that leads back to it (``shared.core.correspondence_ids``).

* ``RequestContent`` - what the request says (blob, never changed after the commit).
* ``RequestState`` - the lifecycle of its correspondences (a table entity; the commit point).
* ``IdempotencyClaim`` - the atomic claim of an ``idempotentKey``.
* ``AttachmentRecord`` - an attachment's metadata, status history, links and upload state;
  an ``AttachmentLink`` per request that uses it.
* ``UploadQuota`` - per organisation, the chunked uploads not yet finished and their declared
  sizes (the cap on bytes in unfinished uploads).

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


class RequestContent(Stored):
    """What one accepted request says, stored once for all its recipients and never changed:
    ``requests/{requestKey}.json``."""

    requestKey: str  # shared.core.correspondence_ids.request_name
    sender: str
    resourceId: str
    created: datetime
    requestedPublishTime: datetime
    dueDateTime: datetime | None = None
    sendersReference: str
    idempotentKey: uuid.UUID | None = None
    recipients: list[str]
    attachmentIds: list[uuid.UUID] = Field(default_factory=list)
    # The accepted ``correspondence`` object (content, reply options, notification, ...)
    # exactly as the API models dumped it.
    correspondence: dict[str, Any]


class Divergence(Stored):
    """One correspondence that left its request's shared lifecycle (purged on its own): it
    keeps the request's first ``sharedUntil`` status events and then its own."""

    sharedUntil: int
    statusHistory: list[CorrespondenceStatusEvent]


class RequestState(Stored):
    """The lifecycle of a request and all its correspondences: one status history shared by
    every recipient, and a ``Divergence`` only for a correspondence that left it. Stored as one
    table entity (``shared.storage.request_states``), which also lists the request for the
    sender's search; writing it commits the request."""

    requestKey: str
    sender: str
    resourceId: str
    created: datetime
    requestedPublishTime: datetime
    sendersReference: str
    idempotentKey: uuid.UUID | None = None
    count: int
    attachmentIds: list[uuid.UUID] = Field(default_factory=list)
    statusHistory: list[CorrespondenceStatusEvent] = Field(default_factory=list)
    diverged: dict[int, Divergence] = Field(default_factory=dict)

    def history(self, index: int) -> list[CorrespondenceStatusEvent]:
        own = self.diverged.get(index)
        if own is None:
            return self.statusHistory
        return self.statusHistory[: own.sharedUntil] + own.statusHistory

    def has_status(self, index: int, *statuses: CorrespondenceStatus) -> bool:
        return any(event.status in statuses for event in self.history(index))

    def current(self, index: int) -> CorrespondenceStatusEvent:
        """Upstream reports the numerically highest status, ignoring Fetched."""
        history = self.history(index)
        candidates = [e for e in history if e.status is not CorrespondenceStatus.Fetched] or history
        return max(candidates, key=lambda e: (e.status.number, e.statusChanged))

    def published(self, index: int) -> datetime | None:
        return next((e.statusChanged for e in self.history(index) if e.status is CorrespondenceStatus.Published), None)

    def shares(self, *statuses: CorrespondenceStatus) -> bool:
        """Whether the shared history has one of these statuses."""
        return any(event.status in statuses for event in self.statusHistory)

    def sharing(self) -> list[int]:
        """The positions still in the shared lifecycle."""
        return [index for index in range(self.count) if index not in self.diverged]

    def search_status(self) -> CorrespondenceStatus:
        """The shared history's latest status by time, ignoring Fetched: what upstream's search
        filters on (a diverged correspondence is purged, which the sender's search never shows)."""
        latest = None
        for event in self.statusHistory:
            if event.status is CorrespondenceStatus.Fetched:
                continue
            if latest is None or as_utc(event.statusChanged) >= as_utc(latest.statusChanged):
                latest = event
        return latest.status if latest is not None else CorrespondenceStatus.Initialized

    def add_status(self, status: CorrespondenceStatus, text: str | None = None, when: datetime | None = None) -> None:
        """A status of every correspondence still sharing the request's lifecycle."""
        self.statusHistory.append(_event(status, text, when))

    def diverge(self, index: int, status: CorrespondenceStatus, text: str | None = None, when: datetime | None = None) -> None:
        own = self.diverged.get(index)
        if own is None:
            own = self.diverged[index] = Divergence(sharedUntil=len(self.statusHistory), statusHistory=[])
        own.statusHistory.append(_event(status, text, when))


def _event(status: CorrespondenceStatus, text: str | None, when: datetime | None) -> CorrespondenceStatusEvent:
    return CorrespondenceStatusEvent(status=status, statusText=text or status, statusChanged=when or utcnow())


class IdempotencyClaim(Stored):
    key: uuid.UUID
    requestKey: str
    # Where the request's state entity is (its existence means "committed").
    partition: str
    row: str
    correspondenceId: uuid.UUID
    created: datetime


class UploadState(Stored):
    """An upload in progress (absent when none is).

    ``single``: one request carries the whole file; the state only marks the claim.
    ``direct``: the client uploads to a staging blob with an upload URL (a SAS), then completes.
    ``chunked``: ``Content-Range`` requests; ``ranges`` are the byte ranges ``[start, end)``
    already staged as blocks (coalesced, sorted). Blocks are laid out on a fixed grid of
    ``blockSize`` bytes (block ``i`` covers ``[i*blockSize, (i+1)*blockSize)``, the last one
    shorter), so that any chunk boundaries give the same block list. ``hashedTo`` is the length
    of the prefix whose MD5 state ``md5State`` (serialised by ``md5Impl``) holds; the rest is
    hashed at completion by reading the committed blob back.
    """

    mode: Literal["single", "chunked", "direct"]
    started: datetime
    total: int | None = None
    blockSize: int | None = None
    ranges: list[tuple[int, int]] = Field(default_factory=list)
    hashedTo: int = 0
    md5State: str | None = None
    md5Impl: str | None = None
    # Set by the request that stored the last missing range while it commits and verifies.
    completing: datetime | None = None
    # When the retention job abandons the upload if it is still open (None: older records).
    abandonAt: datetime | None = None
    # ``direct``: the staging blob (container ``attachment-uploads``) the current upload URL
    # may write; ``total`` is the size the client declared when it asked for the URL.
    staging: str | None = None

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


class AttachmentLink(Stored):
    """The correspondences of one request that use an attachment: all its ``count`` positions
    but the ``released`` ones (purged correspondences let go of their attachments)."""

    requestKey: str
    partition: str  # where the request's state entity is
    row: str
    count: int
    released: list[int] = Field(default_factory=list)

    def positions(self) -> list[int]:
        released = set(self.released)
        return [index for index in range(self.count) if index not in released]


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
    links: list[AttachmentLink] = Field(default_factory=list)
    # The latest expiry of its links (``expirationInDays`` after each linking correspondence's
    # publish time); None while no link gives it one (behaviour §3.6, §7.2).
    expiresAt: datetime | None = None
    upload: UploadState | None = None
    # When the retention job deleted the file of the expired attachment.
    fileDeletedAt: datetime | None = None

    def has_status(self, *statuses: AttachmentStatus) -> bool:
        return any(event.status in statuses for event in self.statusHistory)

    def pending_deadlines(self) -> dict[str, datetime]:
        """The retention work still due on this record, by deadline (``shared.storage.
        attachment_store`` indexes them as blob index tags so that the retention job finds
        candidates without reading every record): ``expiresAt`` until the file of an expired
        attachment is deleted (never for a purged one), ``abandonAt`` while an upload is open."""
        deadlines: dict[str, datetime] = {}
        if self.expiresAt is not None and self.fileDeletedAt is None and not self.has_status(AttachmentStatus.Purged):
            deadlines["expiresAt"] = self.expiresAt
        if self.upload is not None and self.upload.abandonAt is not None:
            deadlines["abandonAt"] = self.upload.abandonAt
        return deadlines

    def current(self) -> AttachmentStatusEvent:
        """The latest row by time; rows written in the same instant: the later one."""
        indexed = list(enumerate(self.statusHistory))
        return max(indexed, key=lambda item: (item[1].statusChanged, item[0]))[1]

    @property
    def status(self) -> AttachmentStatus:
        return self.current().status

    def is_linked(self) -> bool:
        """Used by at least one correspondence (2003, 2007)."""
        return any(link.positions() for link in self.links)

    def link_of(self, request_key: str) -> "AttachmentLink | None":
        return next((link for link in self.links if link.requestKey == request_key), None)

    def add_status(self, status: AttachmentStatus, text: str | None = None, when: datetime | None = None) -> None:
        when = when or utcnow()
        if self.statusHistory:  # keep "latest by time" equal to "last appended"
            when = max(when, max(e.statusChanged for e in self.statusHistory))
        self.statusHistory.append(AttachmentStatusEvent(status=status, statusText=text or status, statusChanged=when))


class QuotaReservation(Stored):
    bytes: int
    started: datetime


class UploadQuota(Stored):
    """One organisation's unfinished chunked uploads: attachment id -> its declared size."""

    organization: str
    uploads: dict[str, QuotaReservation] = Field(default_factory=dict)

    def used(self) -> int:
        return sum(reservation.bytes for reservation in self.uploads.values())
