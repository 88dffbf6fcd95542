"""Organisation identifiers as they are stored: ``urn:altinn:organization:identifier-no:<org>``."""

from __future__ import annotations

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
