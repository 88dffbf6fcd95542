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

Only ``role=Sender`` is served: this API implements the sender side, so ``Recipient`` and
``RecipientAndSender`` answer 400 with a field error saying so (an empty list would look like
"nothing received", which we cannot know).
"""

from __future__ import annotations

import logging
from typing import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from shared.auth import access
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.identifiers import organization_of
from shared.core.operations import Answer, Operation
from shared.core.statuses import HIDDEN_FROM_SENDER
from shared.integrations import resource_registry
from shared.models.responses import SearchResult
from shared.models.search_query import SearchQuery, encode_token
from shared.storage import correspondence_index as index

logger = logging.getLogger(__name__)

_PAGING_PARAMS = {"continuationtoken"}


OPERATION = Operation(
    summary="Find your correspondences of a resource, newest first (sender side)",
    description="Only role=Sender is served: this API implements the sender side. Filters: status "
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
    criteria = index.Criteria(
        organization=caller.organization,
        resource_id=query.resource_id,
        published_after=query.from_,
        published_before=query.to,
        after_row_key=query.after,
        status=query.status,
        hidden=HIDDEN_FROM_SENDER if query.status is None else frozenset(),
        senders_reference=query.senders_reference,
        idempotent_key=query.idempotent_key,
    )
    found = index.query(criteria, query.page_size + 1)
    page = found[: query.page_size]
    token = encode_token(page[-1]["RowKey"]) if len(found) > query.page_size else None
    return SearchResult(ids=[item["correspondenceId"] for item in page], continuation_token=token)


def next_page_url(url: str, params: Mapping[str, str], token: str) -> str:
    """The request's URL with the same query and ``continuationToken`` set to ``token``."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in params.items() if k.lower() not in _PAGING_PARAMS]
    pairs.append(("continuationToken", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), ""))
