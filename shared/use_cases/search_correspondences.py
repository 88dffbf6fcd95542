"""``GET /correspondence/api/v1/correspondence``: search correspondences as their sender.

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

``role=Sender`` and ``role=RecipientAndSender`` (upstream's Postman collection sends it with a
service-owner token) both answer with the correspondences the caller sent: this API implements
the sender side and holds no recipient side. ``Recipient`` answers 400 with a field error
saying so (an empty list would look like "nothing received", which we cannot know).
"""

from __future__ import annotations

import logging
from typing import Mapping
from urllib.parse import urlencode

from shared.auth import access
from shared.auth.caller import Caller
from shared.core import errors, settings
from shared.core.identifiers import organization_of
from shared.core.operations import Answer, Operation
from shared.core.statuses import HIDDEN_FROM_SENDER
from shared.integrations import resource_registry
from shared.models.responses import SearchResult
from shared.models.search_query import Resume, SearchQuery, encode_token
from shared.storage import correspondence_store as store
from shared.storage import request_states

logger = logging.getLogger(__name__)

_PAGING_PARAMS = {"continuationtoken"}
PATH = "/correspondence/api/v1/correspondence"  # the route of search_correspondences/function.json


OPERATION = Operation(
    summary="Find your correspondences of a resource, newest first (sender side)",
    description="role=Sender or RecipientAndSender: both list what you sent (this API implements the "
    "sender side and has no recipient side); role=Recipient is 400. Filters: status "
    "(the latest status), from/to (requestedPublishTime, exclusive), sendersReference, idempotentKey. "
    "Pages of pageSize ids; a continuationToken (also in a Link rel=next header) gets the next page.",
    tags=("Correspondence",),
    query=SearchQuery,
    answers=(
        Answer(200, "The ids of the matching correspondences.", SearchResult,
               headers=(("Link", "<url>; rel=\"next\" when there is a next page."),)),
    ),
    errors=(errors.INVALID_DATE_RANGE, errors.NO_ACCESS_TO_RESOURCE),
)


def _authorize(caller: Caller, query: SearchQuery) -> None:
    """401/4001 unless the caller may act as the sender for the resource (upstream:
    ``CheckAccessAsAny`` for the resource and the party; no access -> 4001)."""
    if query.on_behalf_of is not None and organization_of(query.on_behalf_of) != caller.organization:
        raise errors.NO_ACCESS_TO_RESOURCE.error()
    resource = resource_registry.get_resource(query.resource_id)
    if resource is None or resource.owner_organization is None:
        raise errors.NO_ACCESS_TO_RESOURCE.error()
    if not access.may_act_for(caller, resource.owner_organization, resource.identifier):
        raise errors.NO_ACCESS_TO_RESOURCE.error()


def search_correspondences(caller: Caller, query: SearchQuery) -> SearchResult:
    if query.from_ is not None and query.to is not None and query.from_ > query.to:
        raise errors.INVALID_DATE_RANGE.error()
    _authorize(caller, query)
    if query.status is not None and query.status in HIDDEN_FROM_SENDER:
        return SearchResult(ids=[])  # upstream: the sender never sees these
    criteria = request_states.Criteria(
        organization=caller.organization,
        resource_id=query.resource_id,
        published_after=query.from_,
        published_before=query.to,
        from_row_key=query.after.row_key if query.after is not None else None,
        status=query.status,
        hidden=HIDDEN_FROM_SENDER if query.status is None else frozenset(),
        senders_reference=query.senders_reference,
        idempotent_key=query.idempotent_key,
    )
    ids: list = []
    for state in request_states.query(criteria):
        row = request_states.Keys.of(state).row
        start = query.after.index if query.after is not None and row == query.after.row_key else 0
        # A correspondence that left its request's lifecycle was purged: the sender's search
        # never lists it. The others have the request's status, which the query filtered on.
        for index in state.sharing():
            if index < start:
                continue
            if len(ids) == query.page_size:
                return SearchResult(ids=ids, continuation_token=encode_token(Resume(row, index)))
            ids.append(store.correspondence_id(state.requestKey, index))
    return SearchResult(ids=ids)


def next_page_url(params: Mapping[str, str], token: str) -> str:
    """This operation's URL with the same query and ``continuationToken`` set to ``token``. It
    starts with the configured public base URL (``settings.public_base_url``), never with the
    request's Host header, so a client cannot make the API answer with a link to another host."""
    pairs = [(k, v) for k, v in params.items() if k.lower() not in _PAGING_PARAMS]
    pairs.append(("continuationToken", token))
    return f"{settings.public_base_url()}{PATH}?{urlencode(pairs)}"
