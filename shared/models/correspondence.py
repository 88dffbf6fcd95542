"""Request models of ``POST /correspondence/api/v1/correspondence`` (behaviour §3.1).

These models are the request-shape gate (upstream's JSON binding + data annotations, "400-VAL"):
whatever fails here is answered with 400 ``STD-00000`` listing every failing field with its JSON
path; business rules (with an ``errorCode``) live in ``shared.rules``. The binding rules are
``shared.models.binding``'s.

Caps we add where upstream has none (OWASP API4; each is far above any request upstream would
accept in practice, and an over-cap request is refused with 400 ``STD-00000``):

=====================================================  ======
array                                                  cap
=====================================================  ======
``correspondence.replyOptions``                        100
``notification.customRecipients``                      100
``notification.customNotificationRecipients``          100
``customNotificationRecipients[i].recipients``         100
``existingAttachments``                                1000 (more than 100 always fails: 1038)
``content.attachments``                                1000 (more than 100 always fails: 1038)
custom recipient ``emailAddress`` / ``mobileNumber``   320 / 64 characters
=====================================================  ======
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Optional

from pydantic import Field, field_validator

from shared.core import errors
from shared.models.attachment import BaseAttachment
from shared.models.binding import ApiModel, validate_model
from shared.models.enums import (
    DataLocationType,
    EmailContentType,
    NotificationChannel,
    NotificationTemplate,
    ReferenceType,
    TransmissionType,
)
from shared.models.fields import (
    MAX_SENDERS_REFERENCE,
    AnyText,
    Bool,
    DataLocationTypeField,
    DateTimeOffset,
    EmailContentTypeField,
    FreeText,
    Guid,
    NotificationChannelField,
    NotificationTemplateField,
    PropertyList,
    Recipient,
    ReferenceTypeField,
    ResourceId,
    invalid,
    parse_enum_name_or_number,
    text,
    utf16_length,
)
from shared.models.recipients import MAX_RECIPIENTS

MAX_MESSAGE_SENDER = 255
MAX_TITLE = 255
MAX_SUMMARY = 255
MAX_BODY = 30_000
MAX_EXTERNAL_REFERENCES = 10
MAX_EMAIL_SUBJECT = 512
MAX_EMAIL_BODY = 10_000
MAX_SMS_BODY = 2_144
# Our own caps (see the module docstring).
MAX_REPLY_OPTIONS = 100
MAX_CUSTOM_RECIPIENTS = 100
MAX_EXISTING_ATTACHMENTS = 1000
MAX_NEW_ATTACHMENTS = 1000
MAX_CUSTOM_EMAIL = 320
MAX_CUSTOM_MOBILE = 64
# Arrays whose null is read as empty (a "before" validator below): so says the document.
_NULL_IS_EMPTY: dict[str, Any] = {"type": ["array", "null"]}
_ZERO_GUID = uuid.UUID(int=0)


class CorrespondenceAttachment(BaseAttachment):
    """``InitializeCorrespondenceAttachmentExt``; ``id`` is accepted and ignored upstream."""

    data_location_type: DataLocationTypeField = Field(
        default=DataLocationType.NewCorrespondenceAttachment, alias="dataLocationType"
    )


class CorrespondenceContent(ApiModel):
    language: Optional[AnyText] = Field(default=None, alias="language")
    message_title: text(MAX_TITLE, 1, required=True) = Field(alias="messageTitle")
    message_summary: Optional[text(MAX_SUMMARY)] = Field(default=None, alias="messageSummary")
    message_body: text(MAX_BODY, 1, required=True) = Field(alias="messageBody")
    attachments: list[CorrespondenceAttachment] = Field(
        default_factory=list,
        alias="attachments",
        max_length=MAX_NEW_ATTACHMENTS,
        json_schema_extra=_NULL_IS_EMPTY,
    )

    @field_validator("language")
    @classmethod
    def _language_format(cls, value: Optional[str]) -> Optional[str]:
        # Quirk Q3: upstream's format attribute refuses anything not 2 characters long and
        # the invariant culture's code "iv"; other 2-letter codes reach 1023.
        if value:
            if utf16_length(value) != 2 or value == "iv":
                raise invalid("The language must be a two-letter ISO 639-1 code.")
        return value

    @field_validator("attachments", mode="before")
    @classmethod
    def _null_attachments(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def effective_language(self) -> str:
        """``nb`` when null, empty or whitespace; otherwise as sent (compare case-insensitively)."""
        if self.language is None or not self.language.strip():
            return "nb"
        return self.language

    @property
    def summary(self) -> str:
        """The summary as stored upstream: empty string when null."""
        return self.message_summary or ""


class ReplyOption(ApiModel):
    link_url: Optional[AnyText] = Field(alias="linkURL")
    link_text: Optional[FreeText] = Field(default=None, alias="linkText")


class ExternalReference(ApiModel):
    reference_value: Optional[AnyText] = Field(alias="referenceValue")
    reference_type: ReferenceTypeField = Field(alias="referenceType")


class NotificationRecipient(ApiModel):
    email_address: Optional[text(MAX_CUSTOM_EMAIL)] = Field(default=None, alias="emailAddress")
    mobile_number: Optional[text(MAX_CUSTOM_MOBILE)] = Field(default=None, alias="mobileNumber")
    organization_number: Optional[FreeText] = Field(default=None, alias="organizationNumber")
    national_identity_number: Optional[FreeText] = Field(
        default=None, alias="nationalIdentityNumber"
    )
    is_reserved: Optional[Bool] = Field(default=None, alias="isReserved")


class CustomNotificationRecipient(ApiModel):
    """Deprecated ``customNotificationRecipients`` entry."""

    recipient_to_override: FreeText = Field(alias="recipientToOverride")
    recipients: list[NotificationRecipient] = Field(
        alias="recipients", max_length=MAX_CUSTOM_RECIPIENTS
    )


class Notification(ApiModel):
    notification_template: Optional[NotificationTemplateField] = Field(
        default=None, alias="notificationTemplate"
    )
    email_subject: Optional[text(MAX_EMAIL_SUBJECT)] = Field(default=None, alias="emailSubject")
    email_body: Optional[text(MAX_EMAIL_BODY)] = Field(default=None, alias="emailBody")
    email_content_type: EmailContentTypeField = Field(
        default=EmailContentType.Plain, alias="emailContentType"
    )
    sms_body: Optional[text(MAX_SMS_BODY)] = Field(default=None, alias="smsBody")
    send_reminder: Bool = Field(default=False, alias="sendReminder")
    reminder_email_subject: Optional[text(MAX_EMAIL_SUBJECT)] = Field(
        default=None, alias="reminderEmailSubject"
    )
    reminder_email_body: Optional[text(MAX_EMAIL_BODY)] = Field(
        default=None, alias="reminderEmailBody"
    )
    reminder_email_content_type: Optional[EmailContentTypeField] = Field(
        default=None, alias="reminderEmailContentType"
    )
    reminder_sms_body: Optional[text(MAX_SMS_BODY)] = Field(
        default=None, alias="reminderSmsBody"
    )
    notification_channel: NotificationChannelField = Field(
        default=NotificationChannel.Email, alias="notificationChannel"
    )
    reminder_notification_channel: Optional[NotificationChannelField] = Field(
        default=None, alias="reminderNotificationChannel"
    )
    custom_recipients: Optional[list[NotificationRecipient]] = Field(
        default=None, alias="customRecipients", max_length=MAX_CUSTOM_RECIPIENTS
    )
    custom_recipient: Optional[NotificationRecipient] = Field(
        default=None, alias="customRecipient"
    )
    custom_notification_recipients: Optional[list[CustomNotificationRecipient]] = Field(
        default=None, alias="customNotificationRecipients", max_length=MAX_CUSTOM_RECIPIENTS
    )
    override_registered_contact_information: Bool = Field(
        default=False, alias="overrideRegisteredContactInformation"
    )

    @property
    def template(self) -> NotificationTemplate:
        """Null means ``CustomMessage``."""
        value = self.notification_template
        return NotificationTemplate.CustomMessage if value is None else value

    @property
    def effective_reminder_channel(self) -> NotificationChannel:
        value = self.reminder_notification_channel
        return self.notification_channel if value is None else value

    @property
    def effective_custom_recipients(self) -> list[NotificationRecipient]:
        """``customRecipients`` if non-empty, else ``customRecipient``, else the first
        ``customNotificationRecipients`` entry's ``recipients`` (behaviour §3.1.7)."""
        if self.custom_recipients:
            return self.custom_recipients
        if self.custom_recipient is not None:
            return [self.custom_recipient]
        if self.custom_notification_recipients:
            return self.custom_notification_recipients[0].recipients
        return []


def transmission_type_of(value: Optional[str]) -> Optional[TransmissionType]:
    """Parse a ``DialogportenTransmissionType`` value like upstream (§3.8, Q23): a member name
    in any case or the integer string of a defined member; None when it does not parse."""
    if value is None:
        return None
    return parse_enum_name_or_number(TransmissionType, value)


class BaseCorrespondence(ApiModel):
    resource_id: ResourceId = Field(alias="resourceId")
    senders_reference: text(MAX_SENDERS_REFERENCE, 1, required=True) = Field(
        alias="sendersReference"
    )
    message_sender: Optional[text(MAX_MESSAGE_SENDER)] = Field(
        default=None, alias="messageSender"
    )
    content: CorrespondenceContent = Field(alias="content")
    requested_publish_time: Optional[DateTimeOffset] = Field(
        default=None, alias="requestedPublishTime"
    )
    due_date_time: Optional[DateTimeOffset] = Field(default=None, alias="dueDateTime")
    external_references: Optional[list[ExternalReference]] = Field(
        default=None, alias="externalReferences"
    )
    property_list: PropertyList = Field(default_factory=dict, alias="propertyList")
    reply_options: list[ReplyOption] = Field(
        default_factory=list,
        alias="replyOptions",
        max_length=MAX_REPLY_OPTIONS,
        json_schema_extra=_NULL_IS_EMPTY,
    )
    notification: Optional[Notification] = Field(default=None, alias="notification")
    ignore_reservation: Optional[Bool] = Field(default=None, alias="ignoreReservation")
    is_confirmation_needed: Bool = Field(default=False, alias="isConfirmationNeeded")
    is_confidential: Bool = Field(default=False, alias="isConfidential")
    allow_forwarding: Bool = Field(default=False, alias="allowForwarding")

    @field_validator("reply_options", mode="before")
    @classmethod
    def _null_reply_options(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("external_references")
    @classmethod
    def _external_references(
        cls, value: Optional[list[ExternalReference]]
    ) -> Optional[list[ExternalReference]]:
        if value is None:
            return value
        if len(value) > MAX_EXTERNAL_REFERENCES:
            raise invalid(
                f"externalReferences can contain at most {MAX_EXTERNAL_REFERENCES} references"
            )
        if any(r.reference_type is ReferenceType.DialogportenTransmissionId for r in value):
            raise invalid(
                "Cannot initialize a correspondence with a DialogportenTransmissionId "
                "external reference"
            )
        types = [r for r in value if r.reference_type is ReferenceType.DialogportenTransmissionType]
        if len(types) == 1 and transmission_type_of(types[0].reference_value) is None:
            raise invalid(
                "The DialogportenTransmissionType reference value must be a valid "
                "transmission type"
            )
        return value

    @property
    def dialog_id_reference(self) -> Optional[str]:
        """The first ``DialogportenDialogId`` reference value, if any."""
        for reference in self.external_references or ():
            if reference.reference_type is ReferenceType.DialogportenDialogId:
                return reference.reference_value
        return None


class InitializeCorrespondencesRequest(ApiModel):
    correspondence: BaseCorrespondence = Field(alias="correspondence")
    # Normalised URNs (§3.2), in request order.
    recipients: Annotated[
        list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)
    ] = Field(alias="recipients")
    existing_attachments: list[Guid] = Field(
        default_factory=list,
        alias="existingAttachments",
        max_length=MAX_EXISTING_ATTACHMENTS,
        json_schema_extra=_NULL_IS_EMPTY,
    )
    idempotent_key: Optional[Guid] = Field(default=None, alias="idempotentKey")

    @field_validator("existing_attachments", mode="before")
    @classmethod
    def _null_existing(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("idempotent_key")
    @classmethod
    def _non_empty_key(cls, value: Optional[uuid.UUID]) -> Optional[uuid.UUID]:
        if value == _ZERO_GUID:
            raise invalid(errors.INVALID_IDEMPOTENCY_KEY.message)
        return value


def parse_initialize_request(data: object) -> InitializeCorrespondencesRequest:
    """The request-shape gate of initialize correspondence (behaviour §1 order: 400-VAL, then the
    mapper's notification-template check 3023).

    Raises ``errors.RequestValidationError`` (400 ``STD-00000``, every failing field with its
    JSON path) or ``errors.ProblemError`` 3023; never anything else for any JSON value.
    """
    request = validate_model(InitializeCorrespondencesRequest, data)
    notification = request.correspondence.notification
    if notification is not None:
        template = notification.notification_template
        if template is not None and not isinstance(template, NotificationTemplate):
            # Upstream answers with a bare JSON string; we send a problem body (3023) instead.
            raise errors.INVALID_NOTIFICATION_TEMPLATE.error()
    return request
