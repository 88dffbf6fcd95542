"""Bearer-token authentication for every HTTP function: ``authenticate(header) -> Caller``.

The errors it raises are ``shared.auth.caller``'s. Differences from upstream, on purpose: the
issuer must equal a configured issuer exactly (upstream matches the substring ``altinn`` /
``maskinporten.no``); only RS256 is accepted; token lifetime is checked in Development too.
Like upstream, the audience of Altinn and Maskinporten tokens is not checked. Entra ID access
tokens are a third, optional issuer with their own rules (audience, app role, organisation
mapping): ``shared.auth.entra``. Nothing here logs or returns the token or its claims.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import jwt

from shared.auth import entra
from shared.auth.caller import (
    WRITE_SCOPE,
    Caller,
    InsufficientScope,
    InvalidToken,
    MissingToken,
)
from shared.auth.jwks import KeySetUnavailable
from shared.auth.verify import ALGORITHM, verified_claims
from shared.core import errors, settings

logger = logging.getLogger(__name__)

SERVICE_OWNER_SCOPE = "altinn:serviceowner"

ALTINN = "altinn"
MASKINPORTEN = "maskinporten"
ENTRA = entra.TOKEN_KIND  # Entra ID access tokens, when configured: shared.auth.entra
_REQUIRED_SCOPES = {
    ALTINN: (WRITE_SCOPE,),
    MASKINPORTEN: (WRITE_SCOPE, SERVICE_OWNER_SCOPE),
}
# Issuer setting and key set setting per token kind, in the order issuers are matched.
_ISSUERS = (
    (ALTINN, settings.ALTINN_TOKEN_ISSUER, settings.ALTINN_TOKEN_JWKS),
    (MASKINPORTEN, settings.MASKINPORTEN_ISSUER, settings.MASKINPORTEN_JWKS),
)

ORG_NUMBER_CLAIM = "urn:altinn:orgNumber"
_ISO6523_NORWAY_PREFIX = "0192:"
_ORG_NUMBER = re.compile(r"[0-9]{9}")


def authenticate(authorization_header: str | None) -> Caller:
    token = _bearer_token(authorization_header)
    try:
        header, unverified = _unverified_parts(token)
        token_kind, issuer, jwks_source = _trusted_issuer(unverified)
        if token_kind == ENTRA:  # its own audience, role and organisation rules
            return entra.authenticate(token, header.get("kid"), issuer)
        claims = verified_claims(token, header.get("kid"), issuer, jwks_source)
    except InvalidToken as exc:
        logger.info("token rejected: %s", exc.public_detail)  # fixed texts, no token data
        raise
    scopes = frozenset(_scope_words(claims))
    required = _REQUIRED_SCOPES[token_kind]
    if not scopes.issuperset(required):
        logger.info("token rejected: insufficient scope (%s token)", token_kind)
        raise InsufficientScope(required)
    organization = _organization(claims)
    if organization is None:
        logger.info("token rejected: no organisation claim (%s token)", token_kind)
        raise errors.COULD_NOT_DETERMINE_CALLER.error()
    return Caller(organization=organization, issuer=issuer, scopes=scopes, token_kind=token_kind)


def _bearer_token(header: str | None) -> str:
    if header is None or not header.strip():
        raise MissingToken()
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        # Another scheme (Basic, ...) carries no bearer token: challenge as if none was sent.
        raise MissingToken()
    token = token.strip()
    if not token:
        raise MissingToken()
    return token


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: only used to pick the issuer and its key."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidToken("The bearer token is malformed.") from None
    # Refuse other algorithms before fetching anything (decode enforces it again).
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"The bearer token must be signed with {ALGORITHM}.")
    if not isinstance(header.get("kid", ""), str):
        raise InvalidToken("The bearer token is malformed.")
    return header, claims


def _trusted_issuer(unverified: dict[str, Any]) -> tuple[str, str, str]:
    """(token kind, issuer, key set source) for an exactly matching configured issuer.

    Nothing from the unverified token is trusted beyond this choice: ``_verified_claims``
    checks the signature with that issuer's keys and the issuer again.
    """
    iss = unverified.get("iss")
    if isinstance(iss, str):
        for token_kind, issuer_setting, jwks_setting in _ISSUERS:
            if iss == settings.get(issuer_setting):
                source = settings.get(jwks_setting)
                if source is None:
                    # A trusted issuer without keys is a deployment error, not the caller's.
                    logger.error("app setting %s is not set", jwks_setting)
                    raise KeySetUnavailable()
                return token_kind, iss, source
        if iss in entra.issuers():
            return ENTRA, iss, ""
    raise InvalidToken("The bearer token's issuer is not trusted.")


def _scope_words(claims: dict[str, Any]) -> list[str]:
    scope = claims.get("scope")
    return scope.split() if isinstance(scope, str) else []


def _organization(claims: dict[str, Any]) -> str | None:
    """``consumer.ID`` (``0192:`` stripped), else ``urn:altinn:orgNumber``; never ``client_id``
    (a client id names an integration, not the organisation it acts for)."""
    consumer = claims.get("consumer")
    if isinstance(consumer, str):
        # Altinn platform tokens carry the consumer object as a JSON string.
        try:
            consumer = json.loads(consumer)
        except ValueError:
            consumer = None
    if isinstance(consumer, dict):
        consumer_id = consumer.get("ID")
        if isinstance(consumer_id, str):
            if consumer_id.startswith(_ISO6523_NORWAY_PREFIX):
                consumer_id = consumer_id[len(_ISO6523_NORWAY_PREFIX):]
            if _ORG_NUMBER.fullmatch(consumer_id):
                return consumer_id
    org_number = claims.get(ORG_NUMBER_CLAIM)
    if isinstance(org_number, int) and not isinstance(org_number, bool):
        org_number = str(org_number)
    if isinstance(org_number, str) and _ORG_NUMBER.fullmatch(org_number):
        return org_number
    return None
