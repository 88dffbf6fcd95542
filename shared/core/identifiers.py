"""Identifiers as they are stored: organisations (``urn:altinn:organization:identifier-no:<org>``)
and resource ids (the registry identifier, without its ``urn:altinn:resource:`` prefix).

A resource id is normalised once, the same way wherever one arrives (initialize, attachments,
search, the registry lookup): surrounding whitespace removed, the prefix dropped. What is then
validated is what is looked up, stored, searched and shown; case is kept as sent everywhere.
"""

from __future__ import annotations

import re

ORGANIZATION_PREFIX = "urn:altinn:organization:identifier-no:"
ISO6523_NORWAY_PREFIX = "0192:"


def sender_urn(org: str) -> str:
    return f"{ORGANIZATION_PREFIX}{org}"


def organization_of(sender_urn_or_org: str) -> str:
    """The org number in a stored sender (URN, ``0192:`` form or bare)."""
    value = sender_urn_or_org.strip()
    if value.lower().startswith(ORGANIZATION_PREFIX):
        return value[len(ORGANIZATION_PREFIX):]
    if value.startswith(ISO6523_NORWAY_PREFIX):
        return value[len(ISO6523_NORWAY_PREFIX):]
    return value


RESOURCE_PREFIX = "urn:altinn:resource:"
MAX_RESOURCE_ID = 255
# Upstream's format is "no ':'" (behaviour §3.1.2). A registry identifier is lower-case letters,
# digits, '-' and '_'; we accept the URL-safe superset below, so that what is validated is
# exactly what reaches the registry's path, and refuse '.' and '..' (a path step, not a name).
_RESOURCE_ID_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")


def normalize_resource_id(value: str) -> str:
    """Surrounding whitespace removed, then the optional ``urn:altinn:resource:`` prefix."""
    value = value.strip()
    return value[len(RESOURCE_PREFIX):] if value.startswith(RESOURCE_PREFIX) else value


def resource_id_problem(identifier: str) -> str | None:
    """Why a normalised resource id is not one, or None: a sentence for a 400, naming the rule
    (never echoing the value)."""
    if not identifier:
        return "The resourceId is required and cannot be empty."
    if len(identifier) > MAX_RESOURCE_ID:
        return f"The resourceId must be at most {MAX_RESOURCE_ID} characters long."
    if identifier in (".", ".."):
        return "The resourceId cannot be '.' or '..'."
    if ":" in identifier:
        return "The resourceId must be a resource identifier, optionally prefixed with 'urn:altinn:resource:'."
    if not _RESOURCE_ID_CHARACTERS.fullmatch(identifier):
        return "The resourceId may contain only letters a-z and A-Z, digits, '-', '_' and '.'."
    return None
