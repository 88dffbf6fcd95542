"""Every app setting the code reads, defined once.

Values come from the process environment. The Functions host fills it from the app settings
in Azure and from ``local.settings.json`` locally; ``tools/serve.py`` does the same. Tests
patch the environment. Settings are read when needed (not at import) so that a test, or an
operator changing an app setting, never fights a stale copy.
"""

from __future__ import annotations

import os
from typing import Callable, TypeVar

N = TypeVar("N", int, float)

# Storage
AZURE_WEBJOBS_STORAGE = "AzureWebJobsStorage"
CORRESPONDENCE_STORAGE = "CorrespondenceStorage"

# Tokens
ALTINN_TOKEN_ISSUER = "ALTINN_TOKEN_ISSUER"
ALTINN_TOKEN_JWKS = "ALTINN_TOKEN_JWKS"
MASKINPORTEN_ISSUER = "MASKINPORTEN_ISSUER"
MASKINPORTEN_JWKS = "MASKINPORTEN_JWKS"
# Entra ID access tokens, the optional third issuer (shared.entra_tokens): configured when
# ENTRA_TENANT_ID or ENTRA_ISSUER is set.
ENTRA_TENANT_ID = "ENTRA_TENANT_ID"
ENTRA_ISSUER = "ENTRA_ISSUER"
ENTRA_JWKS = "ENTRA_JWKS"
ENTRA_AUDIENCE = "ENTRA_AUDIENCE"
ENTRA_WRITE_ROLE = "ENTRA_WRITE_ROLE"
ENTRA_ORGANIZATIONS = "ENTRA_ORGANIZATIONS"

# Integrations
RESOURCE_REGISTRY = "RESOURCE_REGISTRY"

# Capacity (shared.core.capacity): the request path first, background work beside it
MAX_CONCURRENT_REQUESTS = "MAX_CONCURRENT_REQUESTS"
ADMISSION_WAIT_SECONDS = "ADMISSION_WAIT_SECONDS"
PUBLISH_CONCURRENCY = "PUBLISH_CONCURRENCY"
PUBLISH_BUSY_SPACING_MS = "PUBLISH_BUSY_SPACING_MS"

# Behaviour
AZURE_FUNCTIONS_ENVIRONMENT = "AZURE_FUNCTIONS_ENVIRONMENT"
MALWARE_SCAN_MODE = "MALWARE_SCAN_MODE"
ATTACHMENT_MIN_EXPIRATION_DAYS = "ATTACHMENT_MIN_EXPIRATION_DAYS"


class MissingSettingError(RuntimeError):
    """A required app setting is not set. The message names it (never its value)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"App setting {name} is not set")
        self.name = name


def get(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def required(name: str) -> str:
    value = get(name)
    if value is None:
        raise MissingSettingError(name)
    return value


def _number(name: str, default: N, kind: Callable[[str], N], what: str) -> N:
    value = get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ValueError(f"App setting {name} must be {what}") from exc


def get_int(name: str, default: int) -> int:
    return _number(name, default, int, "an integer")


def get_float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


def is_development() -> bool:
    """Upstream relaxes some limits outside production; Core Tools set Development locally."""
    return (get(AZURE_FUNCTIONS_ENVIRONMENT, "Production") or "").lower() == "development"
