"""Entra ID (Azure AD) access tokens: the optional third trusted issuer.

Azure-native callers (a daemon with a managed identity, a pipeline with a service principal)
get an access token for this API from Entra ID with the client credentials flow. Such a token
carries no Altinn scope and no organisation number, so the deployment says what it means:

* ``ENTRA_TENANT_ID`` (a GUID) trusts that tenant's v1 and v2 issuers exactly
  (``https://sts.windows.net/{tid}/`` and ``https://login.microsoftonline.com/{tid}/v2.0``) and
  its key set (``https://login.microsoftonline.com/{tid}/discovery/v2.0/keys``).
  ``ENTRA_ISSUER`` (space-separated exact issuers) and ``ENTRA_JWKS`` (URL or file) override
  them, e.g. for a national cloud or for tests. Entra ID is trusted only when one is set.
* ``ENTRA_AUDIENCE`` (required then; space- or comma-separated): the API's application id URI
  and/or client id. Unlike the Altinn issuers the audience is always checked: a tenant issues
  tokens for every application in it.
* ``ENTRA_WRITE_ROLE`` (default ``Correspondence.Write``): the app role (``roles``, client
  credentials) or delegated scope (``scp``) that grants what ``altinn:correspondence.write``
  grants. Exact, whole words; without it: 403.
* ``ENTRA_ORGANIZATIONS``: JSON object mapping the client application id (``azp`` in v2
  tokens, ``appid`` in v1) or the caller's object id (``oid``) to a 9-digit organisation
  number, e.g. ``{"11111111-2222-3333-4444-555555555555": "991825827"}``. The organisation
  comes from this mapping only, never from a claim; an unmapped caller gets 401/4006.

Entra ID also vouches for Event Grid when it delivers malware-scan results with Entra ID
authentication (``verify_event_delivery``): with ``MALWARE_SCAN_WEBHOOK_AUDIENCE`` set (the
application id or URI the event subscription names), the webhook requires a token from the
tenant ``MALWARE_SCAN_WEBHOOK_TENANT_ID`` (else the issuers above; the deployment sets the
former, so that the webhook works without the API trusting that tenant's callers) for that audience carrying the app role ``MALWARE_SCAN_WEBHOOK_ROLE``
(default ``AzureEventGridSecureWebhookSubscriber``, the role Microsoft's setup assigns to
Event Grid's service principal). The function key is required as well (authLevel function).

Checks otherwise as for the other issuers (``shared.auth.verify``): RS256 only, signature against the
issuer's key set (cached by ``shared.auth.jwks``), ``exp`` required, 30 s leeway. A misconfigured
deployment (no audience, a mapping that is not valid JSON) answers 503 and logs the setting's
name, never its value. Nothing here logs a token or its claims.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shared.auth.caller import WRITE_SCOPE, Caller, InsufficientScope, InvalidToken
from shared.auth.verify import verified_claims
from shared.core import errors, settings

logger = logging.getLogger(__name__)

TOKEN_KIND = "entra"
DEFAULT_WRITE_ROLE = "Correspondence.Write"
DEFAULT_WEBHOOK_ROLE = "AzureEventGridSecureWebhookSubscriber"
V1_ISSUER = "https://sts.windows.net/{tenant}/"
V2_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
JWKS_URL = "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ORG_NUMBER = re.compile(r"[0-9]{9}")
# Client application id claims: v2 tokens carry azp, v1 tokens appid.
_APP_ID_CLAIMS = ("azp", "appid")


class EntraMisconfigured(Exception):
    """An Entra ID setting is missing or malformed: the deployment's fault, answered 503."""

    http_status = 503
    public_detail = "Entra ID tokens cannot be checked right now. Retry later."
    headers: dict[str, str] = {}

    def __init__(self, setting: str) -> None:
        super().__init__(f"app setting {setting} is missing or not valid")
        self.setting = setting


@dataclass(frozen=True)
class EntraConfig:
    issuers: frozenset[str]
    jwks_source: str
    audiences: tuple[str, ...]
    write_role: str
    organizations: dict[str, str]


def _tenant(setting: str = settings.ENTRA_TENANT_ID) -> str | None:
    tenant = settings.get(setting)
    if tenant is not None and not _GUID.fullmatch(tenant):
        # The issuer in a token names the tenant by GUID; a domain name would never match.
        logger.error("app setting %s must be the tenant's GUID", setting)
        raise EntraMisconfigured(setting)
    return tenant.lower() if tenant else None


def _tenant_issuers(tenant: str) -> frozenset[str]:
    return frozenset({V1_ISSUER.format(tenant=tenant), V2_ISSUER.format(tenant=tenant)})


def issuers() -> frozenset[str]:
    """The exact Entra ID issuers trusted; empty when Entra ID is not configured."""
    explicit = settings.get(settings.ENTRA_ISSUER)
    if explicit is not None:
        return frozenset(explicit.split())
    tenant = _tenant()
    if tenant is None:
        return frozenset()
    return _tenant_issuers(tenant)


def _jwks_source(tenant: str | None = None) -> str:
    source = settings.get(settings.ENTRA_JWKS)
    if source is None:
        tenant = tenant or _tenant()
        if tenant is None:
            logger.error("app setting %s is not set", settings.ENTRA_JWKS)
            raise EntraMisconfigured(settings.ENTRA_JWKS)
        source = JWKS_URL.format(tenant=tenant)
    return source


def config() -> EntraConfig:
    trusted = issuers()
    source = _jwks_source()
    audiences = tuple((settings.get(settings.ENTRA_AUDIENCE) or "").replace(",", " ").split())
    if not audiences:
        logger.error("app setting %s is not set", settings.ENTRA_AUDIENCE)
        raise EntraMisconfigured(settings.ENTRA_AUDIENCE)
    role = settings.get(settings.ENTRA_WRITE_ROLE, DEFAULT_WRITE_ROLE) or DEFAULT_WRITE_ROLE
    mapping = _organizations(settings.get(settings.ENTRA_ORGANIZATIONS) or "{}")
    return EntraConfig(trusted, source, audiences, role, mapping)


@lru_cache(maxsize=4)
def _organizations(raw: str) -> dict[str, str]:
    """Parsed once per distinct setting value. Keys compare case-insensitively (GUIDs)."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _ORG_NUMBER.fullmatch(v) for k, v in value.items()
    ):
        logger.error(
            "app setting %s must be a JSON object of client/object id -> 9-digit organisation number",
            settings.ENTRA_ORGANIZATIONS,
        )
        raise EntraMisconfigured(settings.ENTRA_ORGANIZATIONS)
    return {k.strip().lower(): v for k, v in value.items()}


def authenticate(token: str, kid: str | None, issuer: str) -> Caller:
    """The caller of a token whose (unverified) ``iss`` is one of ``issuers()``."""
    cfg = config()
    if issuer not in cfg.issuers:  # the caller chose by issuer; check again with the config
        raise InvalidToken("The bearer token's issuer is not trusted.")
    claims = verified_claims(token, kid, issuer, cfg.jwks_source, audiences=cfg.audiences)
    if not _grants(claims, cfg.write_role):
        logger.info("token rejected: insufficient role (entra token)")
        raise InsufficientScope((cfg.write_role,))
    organization = _organization(claims, cfg.organizations)
    if organization is None:
        logger.info("token rejected: caller not mapped to an organisation (entra token)")
        raise errors.COULD_NOT_DETERMINE_CALLER.error()
    # The role stands for the Altinn write scope, so downstream code sees one vocabulary.
    return Caller(
        organization=organization,
        issuer=issuer,
        scopes=frozenset({WRITE_SCOPE}),
        token_kind=TOKEN_KIND,
    )


def _grants(claims: dict[str, Any], role: str) -> bool:
    roles = claims.get("roles")
    if isinstance(roles, list) and any(isinstance(r, str) and r == role for r in roles):
        return True
    scp = claims.get("scp")
    return isinstance(scp, str) and role in scp.split(" ")  # ASCII spaces only, as for scope


def _organization(claims: dict[str, Any], mapping: dict[str, str]) -> str | None:
    """The client application's organisation, else the calling principal's (``oid``)."""
    for claim in (*_APP_ID_CLAIMS, "oid"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            organization = mapping.get(value.strip().lower())
            if organization is not None:
                return organization
    return None


def verify_event_delivery(token: str, kid: str | None, issuer: str, audience: str) -> None:
    """Event Grid's bearer token on the malware-scan webhook (Entra ID delivery
    authentication): an issuer of the webhook's tenant (``MALWARE_SCAN_WEBHOOK_TENANT_ID``,
    else the API's Entra ID issuers), ``audience``, and the webhook app role."""
    webhook_tenant = _tenant(settings.MALWARE_SCAN_WEBHOOK_TENANT_ID)
    trusted = _tenant_issuers(webhook_tenant) if webhook_tenant else issuers()
    if not trusted:
        logger.error("app setting %s (or %s, %s) is not set", settings.MALWARE_SCAN_WEBHOOK_TENANT_ID,
                     settings.ENTRA_TENANT_ID, settings.ENTRA_ISSUER)
        raise EntraMisconfigured(settings.MALWARE_SCAN_WEBHOOK_TENANT_ID)
    if issuer not in trusted:
        raise InvalidToken("The bearer token's issuer is not trusted.")
    claims = verified_claims(token, kid, issuer, _jwks_source(webhook_tenant), audiences=(audience,))
    role = settings.get(settings.MALWARE_SCAN_WEBHOOK_ROLE, DEFAULT_WEBHOOK_ROLE) or DEFAULT_WEBHOOK_ROLE
    roles = claims.get("roles")
    if not (isinstance(roles, list) and role in roles):
        logger.info("event delivery token rejected: missing app role")
        raise InsufficientScope((role,))
