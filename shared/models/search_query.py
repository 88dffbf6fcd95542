"""The query of ``GET /correspondence/api/v1/correspondence`` (the sender's search), as a model.

Upstream binds these from the query string (names case-insensitive; enums as names in any case
or their integer values); a value that does not bind is 400 ``STD-00000`` naming the parameter,
every failing parameter at once. Messages never echo the value sent.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Mapping, Optional

from pydantic import Field, PlainValidator, field_validator

from shared.core import errors
from shared.core.statuses import CorrespondenceStatus
from shared.models.binding import ApiModel, validate_model
from shared.core.identifiers import normalize_resource_id, resource_id_problem
from shared.models.fields import invalid, parse_enum_name_or_number

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
# A page ends inside a request: the next one resumes at that request's RowKey and position.
_RESUME = re.compile(r"(?P<row>[0-9]{19}_[0-9a-f]{28}):(?P<index>[0-9]{1,4})")


class Role(enum.IntEnum):
    Recipient = 0
    Sender = 1
    RecipientAndSender = 2


ONLY_SENDER = (
    "role=Recipient is not supported: this API implements the sender side of Altinn "
    "Correspondence, so correspondences received are not listed here. Use role=Sender "
    "(or RecipientAndSender, which lists what this system holds for you as sender)."
)
ROLE_DESCRIPTION = (
    "Sender, or RecipientAndSender (upstream's Postman collection uses it): both list the "
    "correspondences you sent, since this system has no recipient side. Recipient is 400."
)


@dataclass(frozen=True)
class Resume:
    row_key: str  # the request the next page starts in
    index: int  # and the first position in it


def encode_token(resume: Resume) -> str:
    text = f"{resume.row_key}:{resume.index}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_token(token: str) -> Resume:
    padded = token.strip() + "=" * (-len(token.strip()) % 4)
    text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    found = _RESUME.fullmatch(text)
    if found is None:
        raise ValueError("not a continuation token")
    return Resume(found["row"], int(found["index"]))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("The value is not valid.")
    return value.strip()


def _enum(enum_cls: type[enum.IntEnum]) -> Any:
    def parse(value: object) -> enum.IntEnum:
        member = parse_enum_name_or_number(enum_cls, _text(value))
        if member is None:
            raise invalid("The value is not valid.")
        return member

    return PlainValidator(parse)


def _status(value: object) -> CorrespondenceStatus:
    """A name in any case, or upstream's integer value."""
    text = _text(value)
    by_name = {status.lower(): status for status in CorrespondenceStatus}
    status = by_name.get(text.lower())
    if status is None and text.isdigit():
        status = CorrespondenceStatus.from_number(int(text))
    if status is None:
        raise invalid("The value is not valid.")
    return status


def _time(value: object) -> datetime:
    # An unencoded '+' of an offset arrives as a space.
    text = _text(value).replace(" ", "+")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid("The value is not valid.") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _page_size(value: object) -> int:
    text = _text(value)
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise invalid(f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}.")
    return int(text)


def _after(value: object) -> Resume:
    try:
        return decode_token(_text(value))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid("The continuationToken is not one this API returned.") from None


def _guid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(_text(value))
    except ValueError:
        raise invalid("The value is not valid.") from None


def _optional_text(value: object) -> Optional[str]:
    return _text(value) or None


class SearchQuery(ApiModel):
    resource_id: Annotated[str, PlainValidator(_text)] = Field(alias="resourceId", examples=["ttd-corr-1"])
    role: Annotated[Role, _enum(Role)] = Field(alias="role", description=ROLE_DESCRIPTION, examples=["Sender"])
    status: Optional[Annotated[CorrespondenceStatus, PlainValidator(_status)]] = Field(default=None, alias="status")
    from_: Optional[Annotated[datetime, PlainValidator(_time)]] = Field(default=None, alias="from")
    to: Optional[Annotated[datetime, PlainValidator(_time)]] = Field(default=None, alias="to")
    senders_reference: Optional[str] = Field(default=None, alias="sendersReference")
    idempotent_key: Optional[Annotated[uuid.UUID, PlainValidator(_guid)]] = Field(default=None, alias="idempotentKey")
    on_behalf_of: Optional[Annotated[str, PlainValidator(_optional_text)]] = Field(default=None, alias="onBehalfOf")
    page_size: Annotated[int, PlainValidator(_page_size)] = Field(default=DEFAULT_PAGE_SIZE, alias="pageSize")
    # Where the previous page ended
    after: Optional[Annotated[Resume, PlainValidator(_after)]] = Field(default=None, alias="continuationToken")

    @field_validator("resource_id")
    @classmethod
    def _resource(cls, value: str) -> str:
        if not value:
            raise invalid("The resourceId field is required.")
        # The same normalisation and rules as where correspondences are created, so a search
        # finds them by any form that initialize accepted (shared.core.identifiers).
        identifier = normalize_resource_id(value)
        problem = resource_id_problem(identifier)
        if problem is not None:
            raise invalid(problem)
        return identifier

    @field_validator("role")
    @classmethod
    def _sender_only(cls, value: Role) -> Role:
        # RecipientAndSender: a client written for upstream sends it with a service-owner token;
        # the sender half is all this system holds, so it gets that. Recipient alone would be
        # an empty list that looks like "nothing received", which we cannot know.
        if value is Role.Recipient:
            raise invalid(ONLY_SENDER)
        return value


def parse_search_query(params: Mapping[str, str]) -> SearchQuery:
    """400 ``STD-00000`` naming each parameter that does not bind (its name as the path)."""
    # A parameter sent empty is as if absent (upstream binds it as null: required ones are then
    # missing).
    data = {key: value for key, value in params.items() if value.strip()}
    try:
        return validate_model(SearchQuery, data)
    except errors.RequestValidationError as exc:
        raise errors.RequestValidationError(
            [errors.FieldError(e.path.removeprefix("$."), e.message) for e in exc.errors]
        ) from None
