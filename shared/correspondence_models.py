"""Request and response models of ``POST /correspondence/api/v1/correspondence`` (spec §3, §4).

These models are the request-shape gate (upstream's JSON binding + data annotations, "400-VAL"):
whatever fails here is answered with 400 ``STD-00000`` listing every failing field with its JSON
path; business rules (with an ``errorCode``) live in ``shared.initialize_rules`` and friends.

How upstream's System.Text.Json behaviour is reproduced:

* **Property names are matched case-insensitively.** Every model derives from ``ApiModel``,
  whose ``mode="before"`` validator rewrites the keys of the incoming object to the canonical
  camelCase alias (``Correspondence`` -> ``correspondence``, ``LinkUrl`` -> ``linkURL``) and
  drops unknown keys. Nested models run the same validator, so the whole tree is covered.
  When two keys differ only in case, the **last one wins**, as with System.Text.Json.
* **Unknown properties are ignored**, including the deprecated ``sender``, ``visibleFrom``,
  ``isReservable``, ``allowSystemDeleteAfter`` and the notification's ``sendersReference``.
* **Types are strict**, as in System.Text.Json: a string is never a number or a boolean and
  vice versa; integers are 32-bit; GUIDs use the 36-character form; timestamps are ISO-8601
  strings (a missing offset means UTC) and are converted to UTC.
* **Enums** accept their member names in any case, integer strings of defined members and
  JSON integers of defined members (never booleans); anything else is a request-shape error,
  except ``notificationTemplate``, whose undefined integers become 400/3023 after the shape
  check (upstream's mapper) and whose integer 2 passes (quirk Q7, later 404/3001).
* **String lengths** count UTF-16 code units like .NET (an emoji counts 2). Strings holding
  unpaired surrogates are refused, as System.Text.Json refuses them.
* **Required strings** (``[Required]`` upstream) must be non-null and not blank; "must be
  present" fields (``fileName``, ``linkURL``, ``referenceValue``) must appear but may be null
  or blank, so that the business rules (2010, 1035, ...) decide.

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

Error messages never echo input values (they may be personal data).
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Optional, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared import errors
from shared.recipients import MAX_RECIPIENTS, InvalidRecipient, normalize_recipient

# --- limits (spec §3.1) ---------------------------------------------------------------------
MAX_RESOURCE_ID = 255
MAX_SENDERS_REFERENCE = 4096
MAX_MESSAGE_SENDER = 255
MAX_TITLE = 255
MAX_SUMMARY = 255
MAX_BODY = 30_000
MAX_FILE_NAME = 255
MAX_DISPLAY_NAME = 255
MAX_PROPERTIES = 10
MAX_PROPERTY_KEY = 50
MAX_PROPERTY_VALUE = 300
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
MAX_FREE_TEXT = 30_000  # linkText, customNotificationRecipients[].recipientToOverride, ...
# Arrays whose null is read as empty (a "before" validator below): so says the document.
_NULL_IS_EMPTY: dict[str, Any] = {"type": ["array", "null"]}

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

RESOURCE_PREFIX = "urn:altinn:resource:"
_RESOURCE_ID = re.compile(r"(?:urn:altinn:resource:)?[^:]{1,255}")
_GUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_INTEGER_STRING = re.compile(r"\s*[+-]?[0-9]{1,10}\s*")
_ZERO_GUID = uuid.UUID(int=0)


# --- enums (spec §3.1, §4.3) ------------------------------------------------------------------
class NotificationTemplate(enum.IntEnum):
    CustomMessage = 0
    GenericAltinnMessage = 1
    # Internal only (upstream's "Altinn2Message"): reachable with the integer 2; it has no
    # template, so it ends in 404/3001 (quirk Q7). Its name is not accepted on input.
    Altinn2Message = 2


class NotificationChannel(enum.IntEnum):
    Email = 0
    Sms = 1
    EmailPreferred = 2
    SmsPreferred = 3
    EmailAndSms = 4


class EmailContentType(enum.IntEnum):
    Plain = 0
    Html = 1


class ReferenceType(enum.IntEnum):
    Generic = 0
    AltinnAppInstance = 1
    AltinnBrokerFileTransfer = 2
    DialogportenDialogId = 3
    DialogportenProcessId = 4
    DialogportenTransmissionId = 5
    DialogportenTransmissionType = 6


class TransmissionType(enum.IntEnum):
    Information = 1
    Acceptance = 2
    Rejection = 3
    Request = 4
    Alert = 5
    Decision = 6
    Submission = 7
    Correction = 8


class DataLocationType(enum.IntEnum):
    NewCorrespondenceAttachment = 0
    ExistingCorrespondenceAttachment = 1
    ExistingExternalStorage = 2


class CorrespondenceStatus(enum.IntEnum):
    Initialized = 0
    ReadyForPublish = 1
    Published = 2
    Fetched = 3
    Read = 4
    Replied = 5
    Confirmed = 6
    PurgedByRecipient = 7
    PurgedByAltinn = 8
    Archived = 9
    Reserved = 10
    Failed = 11
    AttachmentsDownloaded = 12
    Forwarded = 13


E = TypeVar("E", bound=enum.IntEnum)


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def parse_enum_name_or_number(
    enum_cls: type[E], value: object, names: dict[str, E] | None = None
) -> E | None:
    """A member from a name (any case), an integer string or a JSON integer; None if undefined."""
    if names is None:
        names = {member.name.lower(): member for member in enum_cls}
    if isinstance(value, str):
        member = names.get(value.strip().lower())
        if member is not None:
            return member
        if _INTEGER_STRING.fullmatch(value):
            value = int(value)
        else:
            return None
    if type(value) is int:
        try:
            return enum_cls(value)
        except ValueError:
            return None
    return None


def _enum_type(enum_cls: type[E], label: str) -> Any:
    names = {m.name.lower(): m for m in enum_cls}
    message = f"The value is not a valid {label}."

    def validate(value: object) -> E:
        if isinstance(value, enum_cls):
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _invalid(message)
        member = parse_enum_name_or_number(enum_cls, value, names)
        if member is None:
            raise _invalid(message)
        return member

    names_out = [m.name for m in enum_cls]
    return Annotated[
        enum_cls,
        PlainValidator(validate, json_schema_input_type=str),
        PlainSerializer(lambda member: member.name, return_type=str),
        # The document (tools/openapi.py): names (any case on input) or the integer values.
        WithJsonSchema(
            {"anyOf": [{"type": "string", "enum": names_out},
                       {"type": "integer", "enum": [m.value for m in enum_cls]}]},
            mode="validation",
        ),
        WithJsonSchema({"type": "string", "enum": names_out}, mode="serialization"),
    ]


def _validate_template(value: object) -> "NotificationTemplate | int":
    """Names of the public members, or any 32-bit integer (undefined ones -> 3023 later)."""
    if isinstance(value, NotificationTemplate):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "custommessage":
            return NotificationTemplate.CustomMessage
        if lowered == "genericaltinnmessage":
            return NotificationTemplate.GenericAltinnMessage
        if not _INTEGER_STRING.fullmatch(value):
            raise _invalid("The value is not a valid notification template.")
        value = int(value)
    if type(value) is not int or not INT32_MIN <= value <= INT32_MAX:
        raise _invalid("The value is not a valid notification template.")
    try:
        return NotificationTemplate(value)
    except ValueError:
        return value  # checked by parse_initialize_request (3023)


def _serialize_template(value: "NotificationTemplate | int") -> object:
    return value.name if isinstance(value, NotificationTemplate) else value


NotificationTemplateField = Annotated[
    NotificationTemplate,
    PlainValidator(_validate_template, json_schema_input_type=str),
    PlainSerializer(_serialize_template),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "enum": ["CustomMessage", "GenericAltinnMessage"]},
                   {"type": "integer", "format": "int32"}]}
    ),
]
NotificationChannelField = _enum_type(NotificationChannel, "notification channel")
EmailContentTypeField = _enum_type(EmailContentType, "email content type")
ReferenceTypeField = _enum_type(ReferenceType, "reference type")
DataLocationTypeField = _enum_type(DataLocationType, "data location type")
CorrespondenceStatusField = _enum_type(CorrespondenceStatus, "correspondence status")


# --- scalar types -------------------------------------------------------------------------------
def utf16_length(value: str) -> int:
    """Length as .NET counts it (UTF-16 code units)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def _check_string(value: object) -> str:
    if not isinstance(value, str):
        raise _invalid("The value must be a string.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid("The value contains invalid UTF-16 (an unpaired surrogate).") from None
    return value


def _text(max_length: int | None, min_length: int = 0, required: bool = False) -> Any:
    """A strict string type; ``required`` = upstream's [Required]: not null, not blank."""

    def validate(value: object) -> str:
        value = _check_string(value)
        if required and (not value or value.isspace()):
            raise _invalid("The field is required and cannot be empty.")
        if min_length or max_length is not None:
            length = len(value) if value.isascii() else utf16_length(value)
            if length < min_length:
                raise _invalid(f"The value must be at least {min_length} characters long.")
            if max_length is not None and length > max_length:
                raise _invalid(f"The value must be at most {max_length} characters long.")
        return value

    schema: dict[str, Any] = {"type": "string"}
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length  # in UTF-16 code units, as .NET counts
    if required:
        schema["pattern"] = "\\S"
    return Annotated[str, PlainValidator(validate, json_schema_input_type=str), WithJsonSchema(schema)]


def _validate_bool(value: object) -> bool:
    if value is True or value is False:
        return value
    raise _invalid("The value must be true or false.")


def _validate_int32(value: object) -> int:
    if type(value) is not int:
        raise _invalid("The value must be an integer.")
    if not INT32_MIN <= value <= INT32_MAX:
        raise _invalid("The value must be a 32-bit integer.")
    return value


def _check_guid_format(value: object) -> object:
    # System.Text.Json reads GUIDs in the 36-character "D" form only; pydantic (Rust) then
    # builds the UUID.
    if isinstance(value, uuid.UUID):
        return value
    if type(value) is not str or not _GUID.fullmatch(value):
        raise _invalid("The value must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
    return value


def _validate_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid("The value must be an ISO-8601 date and time.") from None
    else:
        raise _invalid("The value must be an ISO-8601 date and time.")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise _invalid("The value is outside the supported date range.") from None


Bool = Annotated[bool, PlainValidator(_validate_bool, json_schema_input_type=bool)]
Int32 = Annotated[
    int,
    PlainValidator(_validate_int32, json_schema_input_type=int),
    WithJsonSchema({"type": "integer", "format": "int32", "minimum": INT32_MIN, "maximum": INT32_MAX}),
]
Guid = Annotated[
    uuid.UUID,
    BeforeValidator(_check_guid_format, json_schema_input_type=str),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]
DateTimeOffset = Annotated[
    datetime,
    PlainValidator(_validate_datetime, json_schema_input_type=str),
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
AnyText = _text(None)
FreeText = _text(MAX_FREE_TEXT)


def _validate_resource_id(value: object) -> str:
    value = _check_string(value)
    if not value or value.isspace():
        raise _invalid("The field is required and cannot be empty.")
    if utf16_length(value) > MAX_RESOURCE_ID:
        raise _invalid(f"The value must be at most {MAX_RESOURCE_ID} characters long.")
    if not _RESOURCE_ID.fullmatch(value):
        raise _invalid(
            "The resourceId must be a resource identifier, optionally prefixed with "
            "'urn:altinn:resource:'."
        )
    return value[len(RESOURCE_PREFIX):] if value.startswith(RESOURCE_PREFIX) else value


# The resource id with its optional ``urn:altinn:resource:`` prefix stripped (also used by the
# attachment endpoints).
ResourceId = Annotated[
    str,
    PlainValidator(_validate_resource_id, json_schema_input_type=str),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_RESOURCE_ID,
         "pattern": "^(urn:altinn:resource:)?[^:]+$"}
    ),
]


def _validate_checksum(value: object) -> str:
    if value is None:
        return ""
    value = _check_string(value)
    if value.strip() == "":
        return value
    if len(value) != 32 or value != value.lower():
        raise _invalid("The checksum must be 32 lower-case characters (an MD5 hex digest).")
    return value


Checksum = Annotated[
    str,
    PlainValidator(_validate_checksum, json_schema_input_type=str),
    WithJsonSchema(
        {"type": ["string", "null"],
         "description": "MD5 hex digest (32 lower-case characters); empty or null for none."},
        mode="validation",
    ),
]


def _validate_recipient(value: object) -> str:
    if type(value) is not str or not value.isascii():
        value = _check_string(value)
    try:
        return normalize_recipient(value)
    except InvalidRecipient as exc:
        raise _invalid(str(exc)) from None


Recipient = Annotated[
    str,
    PlainValidator(_validate_recipient, json_schema_input_type=str),
    WithJsonSchema(
        {"type": "string", "minLength": 1,
         "description": "An organisation number or national identity number, plain or as an "
                        "urn:altinn:organization:identifier-no / urn:altinn:person:identifier-no "
                        "URN (spec 3.2)."}
    ),
]


# --- base model ---------------------------------------------------------------------------------
class ApiModel(BaseModel):
    """Case-insensitive property names, unknown properties ignored, camelCase output."""

    model_config = ConfigDict(
        extra="ignore",
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        arbitrary_types_allowed=False,
        hide_input_in_errors=True,
    )

    # lower-cased alias -> alias, filled for every subclass.
    key_aliases: ClassVar[dict[str, str]] = {}
    canonical_keys: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.key_aliases = {
            (info.alias or name).lower(): (info.alias or name)
            for name, info in cls.model_fields.items()
        }
        cls.canonical_keys = frozenset(cls.key_aliases.values())

    @model_validator(mode="before")
    @classmethod
    def _canonical_keys(cls, data: Any) -> Any:
        # System.Text.Json with PropertyNameCaseInsensitive: any casing binds, and when the
        # same property appears twice the last value wins. Unknown keys are dropped here.
        if type(data) is not dict:
            return data
        if data.keys() <= cls.canonical_keys:
            return data  # already canonical: nothing to rename or drop
        aliases = cls.key_aliases
        result: dict[str, Any] = {}
        for key, value in data.items():
            if type(key) is str:
                canonical = aliases.get(key.lower())
                if canonical is not None:
                    result[canonical] = value
        return result


# --- request models -------------------------------------------------------------------------------
class BaseAttachment(ApiModel):
    """Fields shared by new correspondence attachments and ``POST /attachment`` (§3.1.4, §6.2)."""

    file_name: Optional[_text(MAX_FILE_NAME)] = Field(alias="fileName")
    display_name: Optional[_text(MAX_DISPLAY_NAME)] = Field(default=None, alias="displayName")
    is_encrypted: Bool = Field(default=False, alias="isEncrypted")
    checksum: Checksum = Field(default="", alias="checksum")
    senders_reference: _text(MAX_SENDERS_REFERENCE, 1, required=True) = Field(
        alias="sendersReference"
    )
    expiration_in_days: Optional[Int32] = Field(default=None, alias="expirationInDays")


class CorrespondenceAttachment(BaseAttachment):
    """``InitializeCorrespondenceAttachmentExt``; ``id`` is accepted and ignored upstream."""

    data_location_type: DataLocationTypeField = Field(
        default=DataLocationType.NewCorrespondenceAttachment, alias="dataLocationType"
    )


class CorrespondenceContent(ApiModel):
    language: Optional[AnyText] = Field(default=None, alias="language")
    message_title: _text(MAX_TITLE, 1, required=True) = Field(alias="messageTitle")
    message_summary: Optional[_text(MAX_SUMMARY)] = Field(default=None, alias="messageSummary")
    message_body: _text(MAX_BODY, 1, required=True) = Field(alias="messageBody")
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
                raise _invalid("The language must be a two-letter ISO 639-1 code.")
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
    email_address: Optional[_text(MAX_CUSTOM_EMAIL)] = Field(default=None, alias="emailAddress")
    mobile_number: Optional[_text(MAX_CUSTOM_MOBILE)] = Field(default=None, alias="mobileNumber")
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
    email_subject: Optional[_text(MAX_EMAIL_SUBJECT)] = Field(default=None, alias="emailSubject")
    email_body: Optional[_text(MAX_EMAIL_BODY)] = Field(default=None, alias="emailBody")
    email_content_type: EmailContentTypeField = Field(
        default=EmailContentType.Plain, alias="emailContentType"
    )
    sms_body: Optional[_text(MAX_SMS_BODY)] = Field(default=None, alias="smsBody")
    send_reminder: Bool = Field(default=False, alias="sendReminder")
    reminder_email_subject: Optional[_text(MAX_EMAIL_SUBJECT)] = Field(
        default=None, alias="reminderEmailSubject"
    )
    reminder_email_body: Optional[_text(MAX_EMAIL_BODY)] = Field(
        default=None, alias="reminderEmailBody"
    )
    reminder_email_content_type: Optional[EmailContentTypeField] = Field(
        default=None, alias="reminderEmailContentType"
    )
    reminder_sms_body: Optional[_text(MAX_SMS_BODY)] = Field(
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
        ``customNotificationRecipients`` entry's ``recipients`` (spec §3.1.7)."""
        if self.custom_recipients:
            return self.custom_recipients
        if self.custom_recipient is not None:
            return [self.custom_recipient]
        if self.custom_notification_recipients:
            return self.custom_notification_recipients[0].recipients
        return []


def _validate_property_list(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise _invalid("The propertyList must be a JSON object of strings.")
    if len(value) > MAX_PROPERTIES:
        raise _invalid(f"propertyList can contain at most {MAX_PROPERTIES} properties")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _invalid("The propertyList must be a JSON object of strings.")
        _check_string(key)
        _check_string(item)
        if utf16_length(key) > MAX_PROPERTY_KEY:
            raise _invalid(f"propertyList Key can not be longer than {MAX_PROPERTY_KEY}")
        if utf16_length(item) > MAX_PROPERTY_VALUE:
            raise _invalid(f"propertyList Value can not be longer than {MAX_PROPERTY_VALUE}")
    return dict(value)


PropertyList = Annotated[
    dict[str, str],
    PlainValidator(_validate_property_list, json_schema_input_type=dict),
    WithJsonSchema(
        {"type": ["object", "null"], "maxProperties": MAX_PROPERTIES,
         "propertyNames": {"maxLength": MAX_PROPERTY_KEY},
         "additionalProperties": {"type": "string", "maxLength": MAX_PROPERTY_VALUE}},
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "object", "additionalProperties": {"type": "string"}}, mode="serialization"
    ),
]


def transmission_type_of(value: Optional[str]) -> Optional[TransmissionType]:
    """Parse a ``DialogportenTransmissionType`` value like upstream (§3.8, Q23): a member name
    in any case or the integer string of a defined member; None when it does not parse."""
    if value is None:
        return None
    return parse_enum_name_or_number(TransmissionType, value)


class BaseCorrespondence(ApiModel):
    resource_id: ResourceId = Field(alias="resourceId")
    senders_reference: _text(MAX_SENDERS_REFERENCE, 1, required=True) = Field(
        alias="sendersReference"
    )
    message_sender: Optional[_text(MAX_MESSAGE_SENDER)] = Field(
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
            raise _invalid(
                f"externalReferences can contain at most {MAX_EXTERNAL_REFERENCES} references"
            )
        if any(r.reference_type is ReferenceType.DialogportenTransmissionId for r in value):
            raise _invalid(
                "Cannot initialize a correspondence with a DialogportenTransmissionId "
                "external reference"
            )
        types = [r for r in value if r.reference_type is ReferenceType.DialogportenTransmissionType]
        if len(types) == 1 and transmission_type_of(types[0].reference_value) is None:
            raise _invalid(
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
            raise _invalid(errors.INVALID_IDEMPOTENCY_KEY.message)
        return value


# --- response models (§4) -----------------------------------------------------------------------
class ResponseModel(BaseModel):
    """Built in Python by field name; serialized with the camelCase aliases."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)


class InitializedCorrespondence(ResponseModel):
    correspondence_id: Guid = Field(alias="correspondenceId")
    status: CorrespondenceStatusField = Field(alias="status")
    recipient: str = Field(alias="recipient")
    # Always null in the current upstream implementation (quirk Q9).
    notifications: Optional[list[dict[str, Any]]] = Field(default=None, alias="notifications")


class InitializeCorrespondencesResponse(ResponseModel):
    correspondences: list[InitializedCorrespondence] = Field(alias="correspondences")
    attachment_ids: list[Guid] = Field(default_factory=list, alias="attachmentIds")


# --- parsing --------------------------------------------------------------------------------------
M = TypeVar("M", bound=BaseModel)

_TYPE_MESSAGES = {
    "missing": "The {field} field is required.",
    "model_type": "The value must be a JSON object.",
    "model_attributes_type": "The value must be a JSON object.",
    "dict_type": "The value must be a JSON object.",
    "list_type": "The value must be a JSON array.",
    "tuple_type": "The value must be a JSON array.",
    "string_type": "The value must be a string.",
    "bool_type": "The value must be true or false.",
    "int_type": "The value must be an integer.",
    "recursion_loop": "The value is nested too deeply.",
}


def _json_path(loc: tuple[Any, ...], root: str) -> str:
    parts = [root]
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}")
    return "".join(parts)


def _message(error: Any) -> str:
    kind = error.get("type", "")
    loc = error.get("loc", ())
    if kind == "invalid":
        return str(error.get("msg", "The value is not valid."))
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx") or {}
        field = next((p for p in reversed(loc) if isinstance(p, str)), "value")
        if kind == "too_short":
            if field == "recipients":
                return "Recipients can not be empty"
            return f"The {field} array must contain at least {ctx.get('min_length')} items."
        if field == "recipients":
            return f"Recipients can contain at most {MAX_RECIPIENTS} recipients"
        return f"The {field} array can contain at most {ctx.get('max_length')} items."
    template = _TYPE_MESSAGES.get(kind)
    if template is not None:
        field = next((p for p in reversed(loc) if isinstance(p, str)), "value")
        return template.format(field=field)
    return "The value is not valid."


def validation_errors(exc: ValidationError, root: str = "$") -> list[errors.FieldError]:
    """Pydantic errors -> FieldErrors with JSON paths and our own messages (no input echoed)."""
    result: list[errors.FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False, include_context=True, include_input=False):
        item = (_json_path(tuple(error.get("loc", ())), root), _message(error))
        if item not in seen:
            seen.add(item)
            result.append(errors.FieldError(*item))
    return result


def validate_model(model: type[M], data: object, root: str = "$") -> M:
    """Validate ``data`` (a parsed JSON value) against ``model``; request-shape failures become
    ``errors.RequestValidationError`` listing every failing field. Reusable by other endpoints."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.RequestValidationError(validation_errors(exc, root)) from None
    except RecursionError:
        raise errors.RequestValidationError(
            [errors.FieldError(root, "The value is nested too deeply.")]
        ) from None


def parse_initialize_request(data: object) -> InitializeCorrespondencesRequest:
    """The request-shape gate of initialize correspondence (spec §1 order: 400-VAL, then the
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


__all__ = [
    "ApiModel",
    "BaseAttachment",
    "BaseCorrespondence",
    "Checksum",
    "CorrespondenceAttachment",
    "CorrespondenceContent",
    "CorrespondenceStatus",
    "CustomNotificationRecipient",
    "DataLocationType",
    "EmailContentType",
    "ExternalReference",
    "InitializeCorrespondencesRequest",
    "InitializeCorrespondencesResponse",
    "InitializedCorrespondence",
    "Notification",
    "NotificationChannel",
    "NotificationRecipient",
    "NotificationTemplate",
    "ReferenceType",
    "ReplyOption",
    "ResourceId",
    "TransmissionType",
    "parse_initialize_request",
    "transmission_type_of",
    "utf16_length",
    "validate_model",
    "validation_errors",
]
