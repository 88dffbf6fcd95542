"""Every app setting the code reads, defined once.

Values come from the process environment. The Functions host fills it from the app settings
in Azure and from ``local.settings.json`` locally; ``tools/serve.py`` does the same. Tests
patch the environment. Settings are read when needed (not at import) so that a test, or an
operator changing an app setting, never fights a stale copy.
"""

from __future__ import annotations

import logging
import os
from typing import Callable, TypeVar
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

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

# Token lifetime: a token whose exp lies further ahead than this (from now, or from its iat)
# is refused (shared.auth.verify).
TOKEN_MAX_LIFETIME_MINUTES = "TOKEN_MAX_LIFETIME_MINUTES"

# Integrations
RESOURCE_REGISTRY = "RESOURCE_REGISTRY"

# Capacity (shared.core.capacity): the request path first, background work beside it
MAX_CONCURRENT_REQUESTS = "MAX_CONCURRENT_REQUESTS"
ADMISSION_WAIT_SECONDS = "ADMISSION_WAIT_SECONDS"
PUBLISH_CONCURRENCY = "PUBLISH_CONCURRENCY"
PUBLISH_BUSY_SPACING_MS = "PUBLISH_BUSY_SPACING_MS"
# The malware-scan webhook (shared.use_cases.malware_scan_result): the resource id that an
# event's ``topic`` must equal, and optionally the Entra ID audience (and app role) of the
# bearer token Event Grid sends when delivery uses Entra ID authentication, and the tenant
# that issues it (its own setting, so that checking Event Grid's token does not also make
# the API trust that tenant's callers; ENTRA_TENANT_ID / ENTRA_ISSUER when unset).
MALWARE_SCAN_STORAGE_ACCOUNT_ID = "MALWARE_SCAN_STORAGE_ACCOUNT_ID"
# Also accepted as ``topic``: the Event Grid custom topic Defender publishes to (Bicep sets it).
MALWARE_SCAN_TOPIC_ID = "MALWARE_SCAN_TOPIC_ID"
MALWARE_SCAN_WEBHOOK_AUDIENCE = "MALWARE_SCAN_WEBHOOK_AUDIENCE"
MALWARE_SCAN_WEBHOOK_TENANT_ID = "MALWARE_SCAN_WEBHOOK_TENANT_ID"
MALWARE_SCAN_WEBHOOK_ROLE = "MALWARE_SCAN_WEBHOOK_ROLE"

# Absolute URLs in responses (the search's Link header) start with this, never with the
# request's Host header. In Azure the platform sets WEBSITE_HOSTNAME (the app's own default
# host name), used when PUBLIC_BASE_URL is unset.
PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
WEBSITE_HOSTNAME = "WEBSITE_HOSTNAME"

# Behaviour
AZURE_FUNCTIONS_ENVIRONMENT = "AZURE_FUNCTIONS_ENVIRONMENT"
MALWARE_SCAN_MODE = "MALWARE_SCAN_MODE"
ATTACHMENT_MIN_EXPIRATION_DAYS = "ATTACHMENT_MIN_EXPIRATION_DAYS"
# Retention of unfinished uploads (shared.use_cases.expire_attachments): a chunked upload
# still open this long after it started is abandoned; and the most bytes one organisation may
# have declared in chunked uploads that are not finished.
ATTACHMENT_UPLOAD_TIMEOUT_HOURS = "ATTACHMENT_UPLOAD_TIMEOUT_HOURS"
ATTACHMENT_UPLOAD_QUOTA_BYTES = "ATTACHMENT_UPLOAD_QUOTA_BYTES"
# How long an upload URL (POST .../attachment/{id}/upload/url, a blob SAS) stays valid, in minutes.
ATTACHMENT_UPLOAD_URL_MINUTES = "ATTACHMENT_UPLOAD_URL_MINUTES"


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



def public_base_url() -> str:
    """Where clients reach this API, without a trailing slash: ``PUBLIC_BASE_URL``, else the
    platform's ``WEBSITE_HOSTNAME`` (https; http for a local host name, as Core Tools set it),
    else the local default. Never anything from a request."""
    value = get(PUBLIC_BASE_URL)
    if value is None:
        host = get(WEBSITE_HOSTNAME)
        if host is None:
            return "http://localhost:7071"  # make run, tools/serve's default port
        local = host.split(":", 1)[0].lower() in ("localhost", "127.0.0.1")
        value = f"{'http' if local else 'https'}://{host}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        logger.error("app setting %s must be an absolute http(s) URL without query", PUBLIC_BASE_URL)
        raise ValueError(f"App setting {PUBLIC_BASE_URL} must be an absolute http(s) URL")
    return value.rstrip("/")
