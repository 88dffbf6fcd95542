"""Search correspondences as their sender: ``GET /correspondence/api/v1/correspondence``.

Upstream (``GetCorrespondencesHandler`` and ``CorrespondenceRepository.GetCorrespondences``):
the correspondences of one resource whose sender is the caller's organisation, newest
``requestedPublishTime`` first; ``from``/``to`` compare with ``requestedPublishTime`` (both
exclusive, ``from`` after ``to`` is 400/1027); ``status`` compares with the latest status, and
without it archived and purged correspondences are left out (a sender asking for one of those
statuses gets an empty list); ``sendersReference`` and ``idempotentKey`` are exact matches.
Upstream answers ``{"ids": [...]}`` with at most 1000 ids and no way to get more.

Ours: the same, plus paging. ``pageSize`` (1-1000, default 1000, upstream's fixed limit) and a
``continuationToken``: when more ids match, the body carries ``continuationToken`` and a
``Link: <...>; rel="next"`` header gives the next page's URL. The token is a keyset cursor (the
last index key of the page), so pages stay consistent while correspondences are added. It is
``null`` on the last page.

Only ``role=Sender`` is served: this API implements the sender side, so ``Recipient`` and
``RecipientAndSender`` answer 400 with a field error saying so (an empty list would look like
"nothing received", which we cannot know).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from shared import correspondence_index as index
from shared import errors
from shared.records import CORRESPONDENCE_STATUS_ORDER

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
ROLES = {"recipient": "Recipient", "sender": "Sender", "recipientandsender": "RecipientAndSender"}
ROLE_VALUES = {"0": "Recipient", "1": "Sender", "2": "RecipientAndSender"}
# Upstream's sender blacklist: never listed for the sender, and asking for them finds nothing.
HIDDEN_FROM_SENDER = ("Archived", "PurgedByAltinn", "PurgedByRecipient")
_STATUS_BY_NAME = {name.lower(): name for name in CORRESPONDENCE_STATUS_ORDER}
_STATUS_BY_VALUE = {str(value): name for name, value in CORRESPONDENCE_STATUS_ORDER.items()}
_ROW_KEY = re.compile(r"[0-9]{19}_[0-9a-f-]{36}")
_PAGING_PARAMS = {"continuationtoken"}


@dataclass(frozen=True)
class SearchQuery:
    resource_id: str
    role: str
    status: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    senders_reference: str | None = None
    idempotent_key: uuid.UUID | None = None
    on_behalf_of: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    after: str | None = None  # RowKey of the previous page's last entry


@dataclass(frozen=True)
class SearchPage:
    ids: list[str]
    continuation_token: str | None

    def body(self) -> dict[str, Any]:
        return {"ids": self.ids, "continuationToken": self.continuation_token}


# --- parsing the query string (upstream's model binding: 400-VAL, every error at once) -----

def _parse_time(raw: str) -> datetime:
    # An unencoded '+' of an offset arrives as a space.
    text = raw.strip().replace(" ", "+")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def encode_token(row_key: str) -> str:
    return base64.urlsafe_b64encode(row_key.encode("ascii")).decode("ascii").rstrip("=")


def decode_token(token: str) -> str:
    padded = token.strip() + "=" * (-len(token.strip()) % 4)
    row_key = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    if not _ROW_KEY.fullmatch(row_key):
        raise ValueError("not a continuation token")
    return row_key


def parse_query(params: Mapping[str, str]) -> SearchQuery:
    values = {key.lower(): value for key, value in params.items()}
    problems: list[errors.FieldError] = []

    def invalid(name: str, message: str | None = None) -> None:
        problems.append(errors.FieldError(name, message or f"The value '{values.get(name.lower())}' is not valid."))

    resource_id = (values.get("resourceid") or "").strip()
    if not resource_id:
        problems.append(errors.FieldError("resourceId", "The resourceId field is required."))
    elif resource_id.startswith("urn:altinn:resource:"):
        resource_id = resource_id[len("urn:altinn:resource:"):]

    role = None
    raw_role = (values.get("role") or "").strip()
    if not raw_role:
        problems.append(errors.FieldError("role", "The role field is required."))
    else:
        role = ROLES.get(raw_role.lower()) or ROLE_VALUES.get(raw_role)
        if role is None:
            invalid("role")
        elif role != "Sender":
            problems.append(
                errors.FieldError(
                    "role",
                    "Only role=Sender is supported: this API implements the sender side of Altinn "
                    "Correspondence, so correspondences received are not listed here.",
                )
            )

    status = None
    raw_status = (values.get("status") or "").strip()
    if raw_status:
        status = _STATUS_BY_NAME.get(raw_status.lower()) or _STATUS_BY_VALUE.get(raw_status)
        if status is None:
            invalid("status")

    times: dict[str, datetime | None] = {"from": None, "to": None}
    for name in times:
        raw = (values.get(name) or "").strip()
        if raw:
            try:
                times[name] = _parse_time(raw)
            except ValueError:
                invalid(name)

    idempotent_key = None
    raw_key = (values.get("idempotentkey") or "").strip()
    if raw_key:
        try:
            idempotent_key = uuid.UUID(raw_key)
        except ValueError:
            invalid("idempotentKey")

    page_size = DEFAULT_PAGE_SIZE
    raw_size = (values.get("pagesize") or "").strip()
    if raw_size:
        if raw_size.isdigit() and 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            page_size = int(raw_size)
        else:
            invalid("pageSize", f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}.")

    after = None
    raw_token = (values.get("continuationtoken") or "").strip()
    if raw_token:
        try:
            after = decode_token(raw_token)
        except (ValueError, UnicodeError, binascii.Error):
            invalid("continuationToken", "The continuationToken is not one this API returned.")

    if problems:
        raise errors.RequestValidationError(problems)
    return SearchQuery(
        resource_id=resource_id,
        role=role or "Sender",
        status=status,
        from_=times["from"],
        to=times["to"],
        senders_reference=values.get("sendersreference") or None,
        idempotent_key=idempotent_key,
        on_behalf_of=(values.get("onbehalfof") or "").strip() or None,
        page_size=page_size,
        after=after,
    )


# --- the use case -------------------------------------------------------------------------

def _authorize(caller: Any, query: SearchQuery) -> None:
    """401/4001 unless the caller may act as the sender for the resource (upstream:
    ``CheckAccessAsAny`` for the resource and the party; no access -> 4001)."""
    from shared import access, resource_registry

    if query.on_behalf_of is not None and access.organization_of(query.on_behalf_of) != caller.organization:
        raise errors.NO_ACCESS_TO_RESOURCE.error()
    resource = resource_registry.get_resource(query.resource_id)
    if resource is None or resource.owner_organization is None:
        raise errors.NO_ACCESS_TO_RESOURCE.error()
    if not access.may_act_for(caller, resource.owner_organization, resource.identifier):
        raise errors.NO_ACCESS_TO_RESOURCE.error()


def _filter(caller: Any, query: SearchQuery) -> tuple[str, dict[str, Any]] | None:
    """The table filter, or None when nothing can match."""
    parts = ["PartitionKey eq @pk"]
    parameters: dict[str, Any] = {"pk": index.partition_key(caller.organization, query.resource_id)}
    if query.from_ is not None:  # requestedPublishTime > from
        parts.append("RowKey lt @fromKey")
        parameters["fromKey"] = index.time_prefix(query.from_)
    if query.to is not None:  # requestedPublishTime < to
        parts.append("RowKey ge @toKey")
        parameters["toKey"] = f"{index.inverted_ticks(query.to) + 1:019d}"
    if query.after is not None:
        parts.append("RowKey gt @after")
        parameters["after"] = query.after
    if query.status is not None:
        if query.status in HIDDEN_FROM_SENDER:
            return None
        parts.append("status eq @status")
        parameters["status"] = query.status
    else:
        for position, hidden in enumerate(HIDDEN_FROM_SENDER):
            parts.append(f"status ne @hidden{position}")
            parameters[f"hidden{position}"] = hidden
    if query.senders_reference:
        parts.append("sendersReference eq @ref")
        parameters["ref"] = query.senders_reference
    if query.idempotent_key is not None:
        parts.append("idempotentKey eq @key")
        parameters["key"] = str(query.idempotent_key)
    return " and ".join(parts), parameters


def search(caller: Any, query: SearchQuery) -> SearchPage:
    if query.from_ is not None and query.to is not None and query.from_ > query.to:
        raise errors.INVALID_DATE_RANGE.error()
    _authorize(caller, query)
    built = _filter(caller, query)
    if built is None:
        return SearchPage([], None)
    found = index.query(built[0], built[1], query.page_size + 1)
    page = found[: query.page_size]
    token = encode_token(page[-1]["RowKey"]) if len(found) > query.page_size else None
    return SearchPage([item["correspondenceId"] for item in page], token)


def next_page_url(url: str, params: Mapping[str, str], token: str) -> str:
    """The request's URL with the same query and ``continuationToken`` set to ``token``."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in params.items() if k.lower() not in _PAGING_PARAMS]
    pairs.append(("continuationToken", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), ""))
