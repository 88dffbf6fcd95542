"""Initialize-correspondence rules that need services we do not run (yet), as pluggable checks.

Each check takes the lookup it needs as a plain callable (``None`` = the integration is not
configured) and raises the rule's ``errors.ProblemError``. The callables are synchronous; an
async service can prefetch and pass ``lambda ...: result``. A lookup that fails (timeout,
5xx) raises ``LookupFailed``; only KRR has a business code for that (1032), elsewhere the
service turns it into 503.

=====  ==============================================  =========  ================================
step   check                                           codes      not configured (lookup is None)
=====  ==============================================  =========  ================================
6      ``check_confidentiality(req, resource_type,      1060,      treated as upstream's
       confidentiality)``                              1061       "explicitly delegated": either
                                                                  ``isConfidential`` value passes
7      ``check_forwarding_auth_level(req,              1068       minimum level 0: forwarding is
       min_auth_level)``                                          allowed
9      ``check_recipients_registered(req, lookup,      1029,      every syntactically valid
       has_confidential_role)``                        1044       recipient resolves; every
                                                                  organisation holds a role
11     ``check_reservation(req, reserved_lookup)``     1030,      nobody is reserved
                                                       1032
16     ``check_dialog(req, dialog_lookup,              1054,      dialog lookups are skipped:
       resource_owner)``                               1050,      the dialog id is trusted
                                                       1046
20     ``check_forwarding_size(req, total_bytes)``     1069       (pure; sizes come from storage)
25     ``check_recipient_names(req, lookup)``          1029       names unknown: an empty mapping
                                                                  is returned; the placeholder
                                                                  stays as sent
=====  ==============================================  =========  ================================

Every "not configured" behaviour lets a request that upstream accepts pass; none invents a
failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

from shared.core import errors
from shared.models.correspondence import InitializeCorrespondencesRequest
from shared.models.recipients import is_organization, is_person, without_prefix
from shared.rules.initialize import has_recipient_name_placeholder, is_transmission

MAX_FORWARDING_BYTES = 10_000_000


class LookupFailed(Exception):
    """An external lookup could not be completed (timeout, error status)."""


class Confidentiality(enum.Enum):
    CONFIDENTIAL = "confidential"
    NOT_CONFIDENTIAL = "not-confidential"
    EXPLICITLY_DELEGATED = "explicitly-delegated"


@dataclass(frozen=True)
class Party:
    """A register party (only what the rules need)."""

    urn: str  # the normalised recipient URN it was looked up for
    party_uuid: Optional[str]
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Dialog:
    service_owner_org: str  # organisation number of the dialog's service owner
    party: str  # normalised URN of the dialog's party


CONFIDENTIAL_ROLES = frozenset(
    {
        "bestyrende-reder",
        "daglig-leder",
        "deltaker-delt-ansvar",
        "deltaker-fullt-ansvar",
        "innehaver",
        "styreleder",
        "komplementar",
    }
)

PartyLookup = Callable[[Sequence[str]], Mapping[str, Party]]
ReservedLookup = Callable[[Sequence[str]], set[str]]
DialogLookup = Callable[[str], Optional[Dialog]]


def check_confidentiality(
    req: InitializeCorrespondencesRequest,
    resource_type: Optional[str],
    confidentiality: Optional[Callable[[], Confidentiality]],
) -> None:
    """Step 6 (skipped for ``AltinnApp`` resources): 1060 / 1061."""
    if resource_type == "AltinnApp" or confidentiality is None:
        return
    level = confidentiality()
    is_confidential = req.correspondence.is_confidential
    if level is Confidentiality.CONFIDENTIAL and not is_confidential:
        raise errors.CONFIDENTIAL_REQUIRED.error()
    if level is Confidentiality.NOT_CONFIDENTIAL and is_confidential:
        raise errors.CONFIDENTIAL_NOT_ALLOWED.error()


def check_forwarding_auth_level(
    req: InitializeCorrespondencesRequest, min_auth_level: Optional[Callable[[], int]]
) -> None:
    """Step 7: ``allowForwarding`` on a resource whose minimum authentication level > 0."""
    if not req.correspondence.allow_forwarding or min_auth_level is None:
        return
    if min_auth_level() > 0:
        raise errors.FORWARDING_AUTH_LEVEL.error()


def _unresolved(recipients: Sequence[str], parties: Mapping[str, Party]) -> list[str]:
    return [
        r for r in recipients if (p := parties.get(r)) is None or not p.party_uuid
    ]


def check_recipients_registered(
    req: InitializeCorrespondencesRequest,
    lookup: Optional[PartyLookup],
) -> Mapping[str, Party]:
    """Step 9: unresolved recipients -> 404/1029 (all listed); for a confidential
    correspondence, organisations without one of ``CONFIDENTIAL_ROLES`` (on themselves or their
    main unit, which the lookup folds into ``roles``) -> 400/1044. Returns the parties."""
    if lookup is None:
        return {}
    parties = lookup(req.recipients)
    missing = _unresolved(req.recipients, parties)
    if missing:
        entry = errors.RECIPIENT_LOOKUP_FAILED
        raise entry.error(detail=entry.message.format(recipients=", ".join(missing)))
    if req.correspondence.is_confidential:
        lacking = [
            r
            for r in req.recipients
            if is_organization(r) and CONFIDENTIAL_ROLES.isdisjoint(parties[r].roles)
        ]
        if lacking:
            entry = errors.RECIPIENTS_LACK_CONFIDENTIAL_ROLES
            raise entry.error(detail=entry.message.format(recipients=", ".join(lacking)))
    return parties


def check_reservation(
    req: InitializeCorrespondencesRequest, reserved_lookup: Optional[ReservedLookup]
) -> set[str]:
    """Step 11: KRR. Returns the reserved recipients (created with status ``Reserved``)."""
    persons = [r for r in req.recipients if is_person(r)]
    if reserved_lookup is None or not persons:
        return set()
    ignore = bool(req.correspondence.ignore_reservation)
    try:
        reserved = set(reserved_lookup(persons))
    except LookupFailed:
        if ignore:
            return set()
        raise errors.RESERVATION_REGISTRY_FAILED.error() from None
    if len(req.recipients) == 1 and reserved and not ignore:
        entry = errors.RECIPIENT_RESERVED
        raise entry.error(detail=entry.message.format(recipient=req.recipients[0]))
    return reserved


def check_dialog(
    req: InitializeCorrespondencesRequest,
    dialog_lookup: Optional[DialogLookup],
    resource_owner_org: str,
) -> None:
    """Step 16 (after ``initialize_rules.check_content_and_references``): 1054, 1050, 1046."""
    if dialog_lookup is None or not is_transmission(req):
        return
    dialog_id = (req.correspondence.dialog_id_reference or "").strip()
    dialog = dialog_lookup(dialog_id)
    if dialog is None:
        raise errors.DIALOG_NOT_FOUND.error()
    if without_prefix(dialog.service_owner_org) != without_prefix(resource_owner_org):
        raise errors.TRANSMISSION_SERVICE_OWNER_MISMATCH.error()
    if dialog.party != req.recipients[0]:
        raise errors.TRANSMISSION_RECIPIENT_MISMATCH.error()


def check_forwarding_size(req: InitializeCorrespondencesRequest, total_bytes: int) -> None:
    """Step 20: ``allowForwarding`` with attachments totalling more than 10 000 000 bytes."""
    if req.correspondence.allow_forwarding and total_bytes > MAX_FORWARDING_BYTES:
        raise errors.FORWARDING_SIZE.error()


def check_recipient_names(
    req: InitializeCorrespondencesRequest, lookup: Optional[PartyLookup]
) -> dict[str, str]:
    """Step 25: with ``{{recipientName}}`` every recipient must resolve (404/1029, listed
    without prefix). Returns recipient -> display name (empty when not configured)."""
    if not has_recipient_name_placeholder(req) or lookup is None:
        return {}
    parties = lookup(req.recipients)
    missing = _unresolved(req.recipients, parties)
    if missing:
        entry = errors.RECIPIENT_LOOKUP_FAILED
        listed = ", ".join(without_prefix(r) for r in missing)
        raise entry.error(detail=entry.message.format(recipients=listed))
    return {r: parties[r].name for r in req.recipients}
