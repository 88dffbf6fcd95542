"""Request models of the attachment endpoints (behaviour §6.2) and the attachment fields that
new correspondence attachments share (§3.1.4)."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from shared.models.binding import ApiModel
from shared.models.fields import (
    MAX_SENDERS_REFERENCE,
    Bool,
    Checksum,
    Int32,
    ResourceId,
    text,
)

MAX_FILE_NAME = 255
MAX_DISPLAY_NAME = 255


class BaseAttachment(ApiModel):
    """Fields shared by new correspondence attachments and ``POST /attachment`` (§3.1.4, §6.2)."""

    file_name: Optional[text(MAX_FILE_NAME)] = Field(alias="fileName")
    display_name: Optional[text(MAX_DISPLAY_NAME)] = Field(default=None, alias="displayName")
    is_encrypted: Bool = Field(default=False, alias="isEncrypted")
    checksum: Checksum = Field(default="", alias="checksum")
    senders_reference: text(MAX_SENDERS_REFERENCE, 1, required=True) = Field(
        alias="sendersReference"
    )
    expiration_in_days: Optional[Int32] = Field(default=None, alias="expirationInDays")


class InitializeAttachmentRequest(BaseAttachment):
    """``InitializeAttachmentExt``: ``BaseAttachmentExt`` + ``resourceId`` (``sender`` ignored)."""

    resource_id: ResourceId = Field(alias="resourceId")
