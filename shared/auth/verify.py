"""Signature and claim checks of a bearer token, shared by every trusted issuer.

RS256 only, the signature against the issuer's key set (``shared.auth.jwks``), the issuer
exactly, ``exp`` required, 30 s leeway for ``exp``/``nbf``/``iat``. Every failure is an
``InvalidToken`` with a fixed text (never token data).
"""

from __future__ import annotations

from typing import Any, Sequence

import jwt

from shared.auth import jwks
from shared.auth.caller import InvalidToken

# Clock skew tolerated for exp/nbf/iat. Upstream allows none; a few seconds of drift between
# the issuer and a Functions instance is normal, and 30 s keeps expired tokens out quickly.
CLOCK_LEEWAY_SECONDS = 30
ALGORITHM = "RS256"


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
        return jwt.decode(
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
