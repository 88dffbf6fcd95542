"""Response models: what the API answers, field for field (behaviour §4, §6.4, §6.5, ...).

The use cases build these by field name; they are serialized with camelCase names and refuse
unknown fields, so a field that is not declared here cannot be answered. The OpenAPI document
is generated from them (``tools/openapi.py``).
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from shared.core.statuses import AttachmentStatus
from shared.models.binding import ResponseModel
from shared.models.correspondence import ExternalReference, Notification, ReplyOption
from shared.models.fields import CorrespondenceStatusField, DateTimeOffset, Guid


# --- initialize (behaviour §4) -------------------------------------------------------------
class InitializedCorrespondence(ResponseModel):
    correspondence_id: Guid
    status: CorrespondenceStatusField
    recipient: str
    # Always null in the current upstream implementation (quirk Q9).
    notifications: Optional[list[dict[str, Any]]] = None


class InitializeCorrespondencesResponse(ResponseModel):
    correspondences: list[InitializedCorrespondence]
    attachment_ids: list[Guid] = Field(default_factory=list)


# --- attachments (behaviour §6.4, §6.5) ----------------------------------------------------
class AttachmentStatusEventView(ResponseModel):
    status: AttachmentStatus
    status_text: str
    status_changed: DateTimeOffset


class AttachmentOverview(ResponseModel):
    """An attachment's metadata and current status (``GET /attachment/{id}``, upload's 200)."""

    attachment_id: Guid
    resource_id: str
    sender: str
    file_name: Optional[str] = None
    display_name: Optional[str] = None
    is_encrypted: bool
    checksum: Optional[str] = None
    senders_reference: str
    expiration_in_days: Optional[int] = None
    status: AttachmentStatus
    status_text: str
    status_changed: DateTimeOffset
    correspondence_ids: list[Guid]
    data_type: str


class AttachmentDetails(AttachmentOverview):
    status_history: list[AttachmentStatusEventView]


class UploadedRange(ResponseModel):
    start: int
    end: int = Field(description="inclusive")


class UploadProgress(ResponseModel):
    """A chunked upload in progress (202): what has arrived so far."""

    attachment_id: Guid
    status: AttachmentStatus
    size: int
    received: int
    ranges: list[UploadedRange]
    block_size: int
    complete: bool


# --- correspondences (the sender's overview and details) -----------------------------------
class CorrespondenceAttachmentOverview(ResponseModel):
    id: Guid
    file_name: Optional[str] = None
    display_name: Optional[str] = None
    is_encrypted: bool
    checksum: Optional[str] = None
    senders_reference: str
    data_type: str
    data_location_type: str
    created: DateTimeOffset
    status: Optional[AttachmentStatus] = None
    status_text: Optional[str] = None
    status_changed: Optional[DateTimeOffset] = None


class CorrespondenceContentOverview(ResponseModel):
    language: Optional[str] = None
    message_title: str
    message_summary: Optional[str] = None
    message_body: str
    attachments: list[CorrespondenceAttachmentOverview]


class CorrespondenceStatusEventView(ResponseModel):
    status: CorrespondenceStatusField
    status_text: str
    status_changed: DateTimeOffset


class CorrespondenceOverview(ResponseModel):
    """The sender's view of one correspondence (upstream ``CorrespondenceOverviewExt``): the
    accepted ``correspondence`` of its request, shared by its recipients, and its own state."""

    correspondence_id: Guid
    resource_id: str
    sender: str
    senders_reference: str
    message_sender: Optional[str] = None
    recipient: str
    content: CorrespondenceContentOverview
    created: DateTimeOffset
    requested_publish_time: DateTimeOffset
    due_date_time: Optional[DateTimeOffset] = None
    external_references: Optional[list[ExternalReference]] = None
    property_list: dict[str, str] = Field(default_factory=dict)
    reply_options: list[ReplyOption] = Field(default_factory=list)
    notification: Optional[Notification] = None
    ignore_reservation: Optional[bool] = None
    is_confirmation_needed: bool = False
    is_confidential: bool = False
    allow_forwarding: bool = False
    status: CorrespondenceStatusField
    status_text: str
    status_changed: DateTimeOffset
    published: Optional[DateTimeOffset] = None
    marked_unread: Optional[bool] = None
    notifications: list[dict[str, Any]] = Field(default_factory=list)


class CorrespondenceDetails(CorrespondenceOverview):
    status_history: list[CorrespondenceStatusEventView]


# --- search, operations --------------------------------------------------------------------
class SearchResult(ResponseModel):
    """Upstream answers ``{"ids": [...]}``; ``continuationToken`` pages on (null on the last)."""

    ids: list[Guid]
    continuation_token: Optional[str] = None


class HealthStatus(ResponseModel):
    status: str


class ValidationHandshake(ResponseModel):
    """Event Grid's subscription validation: the code it sent, echoed."""

    validation_response: str


# --- direct uploads (docs/attachments.md, "Direct upload to storage") ----------------------
class UploadUrl(ResponseModel):
    """``POST /attachment/{id}/upload/url``: where to upload the file with any Azure Storage client."""

    upload_url: str
    expires_at: DateTimeOffset
