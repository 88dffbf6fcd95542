"""The Altinn Resource Registry: which organisation owns a resource, and its type.

``RESOURCE_REGISTRY`` is either the registry API's base URL (``GET {base}/resource/{id}``,
e.g. ``https://platform.tt02.altinn.no/resourceregistry/api/v1``) or a local file path to a
JSON array of resource documents in the registry's own shape (local development, tests).

Like upstream, found resources are cached for 10 minutes. Unknown resources are cached
briefly too, so a client retrying a typo does not hammer the registry, while a resource
registered a moment ago becomes usable within a minute. Registry errors are not cached and
surface as ``ServiceUnavailable`` (503 with Retry-After; upstream answers 500).

What decides ownership must come from the configured registry and be about the resource asked
for: the id is checked before any request (``shared.core.identifiers``: 400 naming the rule
for ``.``, ``..`` or characters a resource id cannot have), redirects are never followed (a
3xx is a registry error), and a document whose ``identifier`` is another resource's counts
as "not found".
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from shared.core import settings
from shared.core.errors import HttpProblem, ServiceUnavailable
from shared.core.identifiers import RESOURCE_PREFIX, normalize_resource_id, resource_id_problem

logger = logging.getLogger(__name__)

RESOURCE_URN_PREFIX = RESOURCE_PREFIX
FOUND_CACHE_SECONDS = 600.0
NOT_FOUND_CACHE_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024
# Unknown ids are cached too, so made-up ids must not grow the cache without bound.
MAX_CACHE_ENTRIES = 10_000

# The cache's clock; tests replace it to step past cache lifetimes without sleeping.
clock = time.monotonic


@dataclass(frozen=True)
class Resource:
    identifier: str
    resource_type: str | None
    owner_organization: str | None  # hasCompetentAuthority.organization


def get_resource(resource_id: str) -> Resource | None:
    """The resource, or ``None`` when the registry does not know it. An id that cannot be a
    resource id is refused before any lookup (``HttpProblem`` 400 saying why)."""
    identifier = strip_urn_prefix(resource_id)
    problem = resource_id_problem(identifier)
    if problem is not None:
        raise HttpProblem(400, problem)
    source = settings.required(settings.RESOURCE_REGISTRY)
    if _is_url(source):
        return _cached_lookup(source, identifier)
    return _file_lookup(source, identifier)


def strip_urn_prefix(resource_id: str) -> str:
    """The one normalisation of ``shared.core.identifiers`` (whitespace, then the prefix)."""
    return normalize_resource_id(resource_id)


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _from_document(document: Any, identifier: str) -> Resource:
    if not isinstance(document, dict):
        document = {}
    authority = document.get("hasCompetentAuthority")
    owner = authority.get("organization") if isinstance(authority, dict) else None
    resource_type = document.get("resourceType")
    return Resource(
        identifier=document.get("identifier") if isinstance(document.get("identifier"), str) else identifier,
        resource_type=resource_type if isinstance(resource_type, str) and resource_type else None,
        owner_organization=owner.strip() if isinstance(owner, str) and owner.strip() else None,
    )


# --- HTTP mode ---------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is answered as it is (an ``HTTPError``), never followed: the document that decides
    ownership must come from the configured registry, not from wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        return None


_opener = urllib.request.build_opener(_NoRedirects)

_cache: dict[tuple[str, str], tuple[float, Resource | None]] = {}
_cache_lock = threading.Lock()


def _cached_lookup(base_url: str, identifier: str) -> Resource | None:
    key = (base_url, identifier)
    now = clock()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    # Fetched outside the lock: one slow lookup must not hold up lookups of other resources.
    resource = _fetch(base_url, identifier)
    lifetime = FOUND_CACHE_SECONDS if resource is not None else NOT_FOUND_CACHE_SECONDS
    with _cache_lock:
        if len(_cache) >= MAX_CACHE_ENTRIES:
            _prune(now)
        _cache[key] = (now + lifetime, resource)
    return resource


def _prune(now: float) -> None:
    for key in [key for key, (expires, _) in _cache.items() if expires <= now]:
        del _cache[key]
    if len(_cache) >= MAX_CACHE_ENTRIES:
        _cache.clear()


def _fetch(base_url: str, identifier: str) -> Resource | None:
    url = f"{base_url.rstrip('/')}/resource/{urllib.parse.quote(identifier, safe='')}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        # Only http(s) base URLs reach here (_is_url); a file path is read as a JSON file instead.
        with _opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # nosec B310
            if response.status == 204:
                return None
            raw = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        if 300 <= exc.code < 400:
            logger.warning("resource registry answered a redirect (%s); not followed", exc.code)
            raise ServiceUnavailable() from None
        logger.warning("resource registry answered %s", exc.code)
        raise ServiceUnavailable() from None
    except OSError as exc:  # URLError, timeouts, refused connections
        logger.warning("resource registry unreachable (%s)", type(exc).__name__)
        raise ServiceUnavailable() from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        logger.warning("resource registry document too large")
        raise ServiceUnavailable()
    try:
        document = json.loads(raw)
    except ValueError:
        logger.warning("resource registry answered with invalid JSON")
        raise ServiceUnavailable() from None
    if isinstance(document, dict) and "identifier" in document and document.get("identifier") != identifier:
        # Another resource's document (a proxy or registry fault): it says nothing about this one.
        logger.warning("resource registry answered a document for another identifier")
        return None
    return _from_document(document, identifier)


# --- File mode ---------------------------------------------------------------------------

_file_cache: dict[str, tuple[float, dict[str, Resource]]] = {}


def _file_lookup(path: str, identifier: str) -> Resource | None:
    return _file_resources(path).get(identifier)


def _file_resources(path: str) -> dict[str, Resource]:
    """The file's resources by identifier; re-read when the file changes (developers edit it
    while the host runs)."""
    try:
        mtime = os.stat(path).st_mtime
        cached = _file_cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        with open(path, "rb") as handle:
            documents = json.load(handle)
    except (OSError, ValueError) as exc:
        logger.error("resource registry file unreadable (%s)", type(exc).__name__)
        raise ServiceUnavailable() from None
    if not isinstance(documents, list):
        logger.error("resource registry file must hold a JSON array")
        raise ServiceUnavailable()
    resources: dict[str, Resource] = {}
    for document in documents:
        if isinstance(document, dict) and isinstance(document.get("identifier"), str):
            resource = _from_document(document, document["identifier"])
            resources[resource.identifier] = resource
    _file_cache[path] = (mtime, resources)
    return resources


def reset_caches() -> None:
    """Forget every cached lookup (tests)."""
    with _cache_lock:
        _cache.clear()
    _file_cache.clear()
