"""Signature and claim checks of a bearer token, shared by every trusted issuer.

RS256 only, the signature against the issuer's key set (``shared.auth.jwks``), the issuer
exactly, ``exp`` required, 30 s leeway for ``exp``/``nbf``/``iat``. ``exp``, ``nbf`` and ``iat``
must be JSON numbers (a numeric string is refused: RFC 7519 NumericDate), and a token may not
live longer than ``TOKEN_MAX_LIFETIME_MINUTES`` (default 24 h: Altinn platform tokens live 30
minutes, Maskinporten's at most 2 hours, Entra ID's about 1): neither ``exp - iat`` nor
``exp - now`` may exceed it. Every failure is an ``InvalidToken`` with a fixed text (never
token data).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import jwt

from shared.auth import jwks
from shared.auth.caller import InvalidToken
from shared.core import settings

# Clock skew tolerated for exp/nbf/iat. Upstream allows none; a few seconds of drift between
# the issuer and a Functions instance is normal, and 30 s keeps expired tokens out quickly.
CLOCK_LEEWAY_SECONDS = 30
ALGORITHM = "RS256"
DEFAULT_MAX_LIFETIME_MINUTES = 24 * 60
_TIME_CLAIMS = ("exp", "nbf", "iat")


def verified_claims(
    token: str, kid: str | None, issuer: str, jwks_source: str, audiences: Sequence[str] | None = None
) -> dict[str, Any]:
    """The token's claims once every check passed. ``audiences`` is checked when given (Entra
    ID tokens); Altinn and Maskinporten tokens carry none that upstream checks."""
    key = jwks.key_set(jwks_source).signing_key(kid)
    if key is None:
        raise InvalidToken("The bearer token's signing key is not known.")
    required = ["exp", "iss", "aud"] if audiences is not None else ["exp", "iss"]
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=list(audiences) if audiences is not None else None,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": required, "verify_aud": audiences is not None},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The bearer token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise InvalidToken("The bearer token is not valid yet.") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("The bearer token's signature is not valid.") from None
    except jwt.MissingRequiredClaimError:
        raise InvalidToken("The bearer token lacks a required claim.") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("The bearer token is not meant for this API (audience).") from None
    except jwt.PyJWTError:
        raise InvalidToken() from None
    check_lifetime(claims)
    return claims


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_lifetime(claims: dict[str, Any], now: float | None = None) -> None:
    """Time claims are numbers, and the token's lifetime is within the configured maximum."""
    if any(name in claims and not _is_number(claims[name]) for name in _TIME_CLAIMS):
        raise InvalidToken("The bearer token's exp, nbf and iat must be numbers.")
    limit = settings.get_int(settings.TOKEN_MAX_LIFETIME_MINUTES, DEFAULT_MAX_LIFETIME_MINUTES) * 60
    now = time.time() if now is None else now
    expires = claims["exp"]
    if expires - now > limit + CLOCK_LEEWAY_SECONDS or ("iat" in claims and expires - claims["iat"] > limit):
        raise InvalidToken("The bearer token's lifetime is longer than this API accepts.")
