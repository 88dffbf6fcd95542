"""May this caller act as the sender for a resource, or for something already stored?

The sender of a correspondence or attachment is the owner of its resource in the resource
registry (``hasCompetentAuthority.organization``), stored as
``urn:altinn:organization:identifier-no:<org>``; the request's own ``sender`` field is ignored,
as upstream does.

Every access decision is made in ``may_act_for``. Today it is owner-only: the PDP (Altinn
Authorization) integration is not configured, so a caller acts only for resources its own
organisation owns. Upstream allows everything when its PDP is not configured; we do not,
because that would let any valid token act for any agency. Delegated access through a PDP
would be added in ``may_act_for`` alone, after the owner fast path.
"""

from __future__ import annotations

import logging

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.identifiers import organization_of, sender_urn  # noqa: F401 - part of this API
from shared.integrations import resource_registry
from shared.integrations.resource_registry import Resource

logger = logging.getLogger(__name__)

CORRESPONDENCE_SERVICE = "CorrespondenceService"
GENERIC_ACCESS_RESOURCE = "GenericAccessResource"
ALTINN_APP = "AltinnApp"


def may_act_for(caller: Caller, owner_organization: str, resource_id: str | None = None) -> bool:
    """The one place an access decision is made (action "write", as the sender).

    Owner fast path: the caller's organisation owns the resource. With no PDP configured
    that is the only way in. ``resource_id`` is what a PDP request would name.
    """
    return caller.organization == owner_organization


def authorize_sender(
    caller: Caller,
    resource_id: str,
    *,
    allowed_types: tuple[str, ...],
    type_error: errors.CatalogEntry,
) -> Resource:
    """Upstream's order: unknown resource or owner (1036), access (4001), resource type.

    Returns the resource; its owner is the sender (``sender_urn(resource.owner_organization)``).
    Raises ``ServiceUnavailable`` when the registry cannot be reached.
    """
    resource = resource_registry.get_resource(resource_id)
    if resource is None or resource.owner_organization is None:
        raise errors.SERVICE_OWNER_NOT_FOUND.error()
    if not may_act_for(caller, resource.owner_organization, resource.identifier):
        logger.info("access denied: caller does not own resource %s", resource.identifier)
        raise errors.NO_ACCESS_TO_RESOURCE.error()
    if resource.resource_type not in allowed_types:
        # Upstream fails with a 500 when the type is missing; a 400 tells the caller why.
        raise type_error.error()
    return resource


def ensure_owner(caller: Caller, sender_urn_or_org: str, *, resource_id: str | None = None) -> None:
    """For stored attachments and correspondences: 401/4001 unless the caller may act for
    their sender."""
    if not may_act_for(caller, organization_of(sender_urn_or_org), resource_id):
        raise errors.NO_ACCESS_TO_RESOURCE.error()
