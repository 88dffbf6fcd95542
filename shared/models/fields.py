"""Scalar field types of the request models: strict like System.Text.Json, lengths in UTF-16
code units like .NET, messages that never echo the input (see ``shared.models.binding``).
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from shared.core.statuses import CorrespondenceStatus
from shared.models.enums import (
    DataLocationType,
    EmailContentType,
    NotificationChannel,
    NotificationTemplate,
    ReferenceType,
)
from shared.models.recipients import InvalidRecipient, normalize_recipient

MAX_RESOURCE_ID = 255
MAX_SENDERS_REFERENCE = 4096
MAX_PROPERTIES = 10
MAX_PROPERTY_KEY = 50
MAX_PROPERTY_VALUE = 300
MAX_FREE_TEXT = 30_000  # linkText, customNotificationRecipients[].recipientToOverride, ...
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

RESOURCE_PREFIX = "urn:altinn:resource:"
_RESOURCE_ID = re.compile(r"(?:urn:altinn:resource:)?[^:]{1,255}")
_GUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_INTEGER_STRING = re.compile(r"\s*[+-]?[0-9]{1,10}\s*")


E = TypeVar("E", bound=enum.IntEnum)


def invalid(message: str) -> PydanticCustomError:
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


def enum_type(enum_cls: type[E], label: str) -> Any:
    names = {m.name.lower(): m for m in enum_cls}
    message = f"The value is not a valid {label}."

    def validate(value: object) -> E:
        if isinstance(value, enum_cls):
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise invalid(message)
        member = parse_enum_name_or_number(enum_cls, value, names)
        if member is None:
            raise invalid(message)
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
            raise invalid("The value is not a valid notification template.")
        value = int(value)
    if type(value) is not int or not INT32_MIN <= value <= INT32_MAX:
        raise invalid("The value is not a valid notification template.")
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
NotificationChannelField = enum_type(NotificationChannel, "notification channel")
EmailContentTypeField = enum_type(EmailContentType, "email content type")
ReferenceTypeField = enum_type(ReferenceType, "reference type")
DataLocationTypeField = enum_type(DataLocationType, "data location type")
# Statuses are answered by name (upstream serializes enums as strings).
CorrespondenceStatusField = Annotated[
    CorrespondenceStatus,
    WithJsonSchema({"type": "string", "enum": [status.value for status in CorrespondenceStatus]}),
]

def utf16_length(value: str) -> int:
    """Length as .NET counts it (UTF-16 code units)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def check_string(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("The value must be a string.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid("The value contains invalid UTF-16 (an unpaired surrogate).") from None
    return value


def text(max_length: int | None, min_length: int = 0, required: bool = False) -> Any:
    """A strict string type; ``required`` = upstream's [Required]: not null, not blank."""

    def validate(value: object) -> str:
        value = check_string(value)
        if required and (not value or value.isspace()):
            raise invalid("The field is required and cannot be empty.")
        if min_length or max_length is not None:
            length = len(value) if value.isascii() else utf16_length(value)
            if length < min_length:
                raise invalid(f"The value must be at least {min_length} characters long.")
            if max_length is not None and length > max_length:
                raise invalid(f"The value must be at most {max_length} characters long.")
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
    raise invalid("The value must be true or false.")


def _validate_int32(value: object) -> int:
    if type(value) is not int:
        raise invalid("The value must be an integer.")
    if not INT32_MIN <= value <= INT32_MAX:
        raise invalid("The value must be a 32-bit integer.")
    return value


def _check_guid_format(value: object) -> object:
    # System.Text.Json reads GUIDs in the 36-character "D" form only; pydantic (Rust) then
    # builds the UUID.
    if isinstance(value, uuid.UUID):
        return value
    if type(value) is not str or not _GUID.fullmatch(value):
        raise invalid("The value must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
    return value


def _validate_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise invalid("The value must be an ISO-8601 date and time.") from None
    else:
        raise invalid("The value must be an ISO-8601 date and time.")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise invalid("The value is outside the supported date range.") from None


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
AnyText = text(None)
FreeText = text(MAX_FREE_TEXT)


def _validate_resource_id(value: object) -> str:
    value = check_string(value)
    if not value or value.isspace():
        raise invalid("The field is required and cannot be empty.")
    if utf16_length(value) > MAX_RESOURCE_ID:
        raise invalid(f"The value must be at most {MAX_RESOURCE_ID} characters long.")
    if not _RESOURCE_ID.fullmatch(value):
        raise invalid(
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
    value = check_string(value)
    if value.strip() == "":
        return value
    if len(value) != 32 or value != value.lower():
        raise invalid("The checksum must be 32 lower-case characters (an MD5 hex digest).")
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
        value = check_string(value)
    try:
        return normalize_recipient(value)
    except InvalidRecipient as exc:
        raise invalid(str(exc)) from None


Recipient = Annotated[
    str,
    PlainValidator(_validate_recipient, json_schema_input_type=str),
    WithJsonSchema(
        {"type": "string", "minLength": 1,
         "description": "An organisation number or national identity number, plain or as an "
                        "urn:altinn:organization:identifier-no / urn:altinn:person:identifier-no "
                        "URN (behaviour §3.2)."}
    ),
]


def _validate_property_list(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise invalid("The propertyList must be a JSON object of strings.")
    if len(value) > MAX_PROPERTIES:
        raise invalid(f"propertyList can contain at most {MAX_PROPERTIES} properties")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise invalid("The propertyList must be a JSON object of strings.")
        check_string(key)
        check_string(item)
        if utf16_length(key) > MAX_PROPERTY_KEY:
            raise invalid(f"propertyList Key can not be longer than {MAX_PROPERTY_KEY}")
        if utf16_length(item) > MAX_PROPERTY_VALUE:
            raise invalid(f"propertyList Value can not be longer than {MAX_PROPERTY_VALUE}")
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

