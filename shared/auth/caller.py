"""Who is calling (``Caller``) and the token errors, which ``shared.api.http`` renders from
their attributes (``http_status``, ``headers``, ``public_detail``):

* no bearer token -> 401 ``WWW-Authenticate: Bearer``
* a token that fails any check -> 401 ``WWW-Authenticate: Bearer error="invalid_token"``
* a valid token without the scopes -> 403 ``error="insufficient_scope"`` (RFC 6750)
* the issuer's key set cannot be fetched -> 503 (``shared.auth.jwks.KeySetUnavailable``)
"""

from __future__ import annotations

from dataclasses import dataclass

WRITE_SCOPE = "altinn:correspondence.write"


@dataclass(frozen=True)
class Caller:
    organization: str  # 9-digit organisation number
    issuer: str
    scopes: frozenset[str]
    token_kind: str  # "altinn", "maskinporten" or "entra"


class AuthenticationError(Exception):
    """Base of the token errors; shared.api.http renders them from these attributes."""

    http_status = 401
    public_detail = "A bearer token is required."

    def __init__(self, public_detail: str | None = None) -> None:
        super().__init__(public_detail or self.public_detail)
        if public_detail:
            self.public_detail = public_detail
        self.headers = self._challenge()

    def _challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class MissingToken(AuthenticationError):
    """No bearer token at all: a plain challenge, no error code (RFC 6750 §3.1)."""


class InvalidToken(AuthenticationError):
    public_detail = "The bearer token is not valid."

    def _challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class InsufficientScope(AuthenticationError):
    http_status = 403

    def __init__(self, required: tuple[str, ...]) -> None:
        self.required = required
        super().__init__(f"The token lacks a required scope: {' '.join(required)}.")

    def _challenge(self) -> dict[str, str]:
        scope = " ".join(self.required)
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
