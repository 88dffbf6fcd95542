"""The statuses of correspondences and attachments, defined once (upstream's enums).

The integer values are upstream's (``CorrespondenceStatusExt``, ``AttachmentStatusExt``):
clients may send them (search by ``status=2``) and upstream orders by them ("the current
status is the numerically highest one"). Stored documents and API responses carry the names.
"""

from __future__ import annotations

import enum


class _Status(enum.StrEnum):
    """A status is its name (stored, answered, compared); ``number`` is upstream's value."""

    @property
    def number(self) -> int:
        return list(type(self)).index(self)

    @classmethod
    def from_number(cls, number: int) -> "_Status | None":
        members = list(cls)
        return members[number] if 0 <= number < len(members) else None


class CorrespondenceStatus(_Status):
    # In upstream's order: the position is the integer value (CorrespondenceStatusExt).
    Initialized = "Initialized"
    ReadyForPublish = "ReadyForPublish"
    Published = "Published"
    Fetched = "Fetched"
    Read = "Read"
    Replied = "Replied"
    Confirmed = "Confirmed"
    PurgedByRecipient = "PurgedByRecipient"
    PurgedByAltinn = "PurgedByAltinn"
    Archived = "Archived"
    Reserved = "Reserved"
    Failed = "Failed"
    AttachmentsDownloaded = "AttachmentsDownloaded"
    Forwarded = "Forwarded"


class AttachmentStatus(_Status):
    # In upstream's order: the position is the integer value (AttachmentStatusExt).
    Initialized = "Initialized"
    UploadProcessing = "UploadProcessing"
    Published = "Published"
    Purged = "Purged"
    Failed = "Failed"
    Expired = "Expired"


# A correspondence with one of these is never published again (the publisher leaves it alone).
FINAL_FOR_PUBLISHING = frozenset(
    {
        CorrespondenceStatus.Published,
        CorrespondenceStatus.Failed,
        CorrespondenceStatus.PurgedByAltinn,
        CorrespondenceStatus.PurgedByRecipient,
    }
)
PURGED_CORRESPONDENCE = frozenset({CorrespondenceStatus.PurgedByAltinn, CorrespondenceStatus.PurgedByRecipient})
# Upstream's sender blacklist: never listed for the sender, and asking for them finds nothing.
HIDDEN_FROM_SENDER = frozenset(
    {CorrespondenceStatus.Archived, CorrespondenceStatus.PurgedByAltinn, CorrespondenceStatus.PurgedByRecipient}
)
# A sender may purge a correspondence whose current status is one of these.
PURGEABLE_BY_SENDER = frozenset(
    {CorrespondenceStatus.Initialized, CorrespondenceStatus.ReadyForPublish, CorrespondenceStatus.Failed}
)
# An attachment in one of these can never be used again (purge, upload, link).
GONE_ATTACHMENT = frozenset({AttachmentStatus.Purged, AttachmentStatus.Expired})
