"""Correspondence recipients: accepted forms, validation and normalisation (behaviour §3.2).

Every recipient string is checked against upstream's anchored, case-sensitive patterns, then
normalised to a lower-cased URN, which is what is stored, returned and compared for
duplicates:

======================================================  =============================================
accepted input                                          normalised form
======================================================  =============================================
``0192:<9 digits>``, ``urn:altinn:organization:          ``urn:altinn:organization:identifier-no:<9>``
identifier-no:<9 digits>``  (no check digit, Q2;
a bare 9-digit number is *rejected*)
``<11 digits>``, ``urn:altinn:person:identifier-no:      ``urn:altinn:person:identifier-no:<11>``
<11 digits>`` (must pass the mod-11 check below)
``urn:altinn:person:idporten-email:<e-mail>``            the same, lower-cased (Q24)
(no ``:``, exactly one ``@``, text on both sides)
``urn:altinn:person:legacy-selfidentified:<name>``       the same, lower-cased
(no ``:`` in the name)
======================================================  =============================================

Digits are ASCII ``0-9`` only (upstream's .NET ``\\d`` would also accept other Unicode digits;
no real identifier contains them).
"""

from __future__ import annotations

import re

from shared.core.identifiers import ORGANIZATION_PREFIX

PERSON_PREFIX = "urn:altinn:person:identifier-no:"
EMAIL_PREFIX = "urn:altinn:person:idporten-email:"
LEGACY_SELF_IDENTIFIED_PREFIX = "urn:altinn:person:legacy-selfidentified:"

MAX_RECIPIENTS = 500

_ORG_PREFIX_LENGTH = len(ORGANIZATION_PREFIX)
_ORG_URN_LENGTH = _ORG_PREFIX_LENGTH + 9
_PERSON_PREFIX_LENGTH = len(PERSON_PREFIX)
_PERSON_URN_LENGTH = _PERSON_PREFIX_LENGTH + 11

# One anchored pattern (used with fullmatch) with a named group per accepted form. .NET's "."
# does not match "\n", hence "[^\n]" for the e-mail part.
_RECIPIENT = re.compile(
    r"(?:0192:|urn:altinn:organization:identifier-no:)(?P<org>[0-9]{9})"
    r"|(?:urn:altinn:person:identifier-no:)?(?P<person>[0-9]{11})"
    r"|urn:altinn:person:idporten-email:(?P<email>[^\n]+)"
    r"|(?P<legacy>urn:altinn:person:legacy-selfidentified:[^:]+)"
)

INVALID_FORMAT_MESSAGE = (
    "Recipient should be an organization number in the format "
    "'urn:altinn:organization:identifier-no:organizationnumber' or the format "
    "countrycode:organizationnumber, for instance 0192:910753614, a national identity number, "
    "or an idporten email URN in the format 'urn:altinn:person:idporten-email:email'"
)
INVALID_IDENTITY_NUMBER_MESSAGE = "The given Recipient national identity number is not valid"
INVALID_EMAIL_MESSAGE = "The given Recipient email address is not valid"
BLANK_MESSAGE = "Recipient can not be empty"


class InvalidRecipient(ValueError):
    """The recipient string is not an accepted form; the message is safe to show (no input)."""


def _check_digit(total: int) -> int:
    """Upstream's Mod11 mapping: 11 -> 0, 10 -> invalid (-1)."""
    result = 11 - total % 11
    if result == 11:
        return 0
    return -1 if result == 10 else result


def is_national_identity_number(value: str) -> bool:
    """Norwegian fødselsnummer / D-number check digits k1 and k2 (no date plausibility).

    k1 weights 3 7 6 1 8 9 4 5 2 over d1..d9; k2 weights 5 4 3 2 7 6 5 4 3 2 over d1..d10.
    """
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    # ASCII codes; the weighted sums are corrected by 48 ("0") times the sum of the weights.
    d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11 = value.encode("ascii")
    k1 = _check_digit(
        3 * d1 + 7 * d2 + 6 * d3 + d4 + 8 * d5 + 9 * d6 + 4 * d7 + 5 * d8 + 2 * d9 - 48 * 45
    )
    if k1 != d10 - 48:
        return False
    k2 = _check_digit(
        5 * d1 + 4 * d2 + 3 * d3 + 2 * d4 + 7 * d5 + 6 * d6 + 5 * d7 + 4 * d8 + 3 * d9
        + 2 * d10 - 48 * 41
    )
    return k2 == d11 - 48


def _is_email_part_valid(email: str) -> bool:
    if ":" in email or email.count("@") != 1:
        return False
    local, _, domain = email.partition("@")
    return bool(local) and bool(domain)


def normalize_recipient(value: str) -> str:
    """Validate one recipient and return its normalised URN; raises ``InvalidRecipient``."""
    # Fast paths for the already-normalised URNs most clients send (same rules as below).
    if value.startswith("urn:altinn:") and value.isascii():
        if len(value) == _ORG_URN_LENGTH and value.startswith(ORGANIZATION_PREFIX):
            if value[_ORG_PREFIX_LENGTH:].isdigit():
                return value
        elif len(value) == _PERSON_URN_LENGTH and value.startswith(PERSON_PREFIX):
            if is_national_identity_number(value[_PERSON_PREFIX_LENGTH:]):
                return value
    match = _RECIPIENT.fullmatch(value)
    if match is None:
        if not value or value.isspace():
            raise InvalidRecipient(BLANK_MESSAGE)
        raise InvalidRecipient(INVALID_FORMAT_MESSAGE)
    kind = match.lastgroup
    if kind == "org":
        return ORGANIZATION_PREFIX + match.group("org")
    if kind == "person":
        number = match.group("person")
        if not is_national_identity_number(number):
            raise InvalidRecipient(INVALID_IDENTITY_NUMBER_MESSAGE)
        return PERSON_PREFIX + number
    if kind == "email":
        email = match.group("email")
        if not _is_email_part_valid(email):
            raise InvalidRecipient(INVALID_EMAIL_MESSAGE)
        return EMAIL_PREFIX + email.lower()
    return value.lower()  # legacy self-identified


def is_organization(recipient: str) -> bool:
    """True for a normalised organisation URN."""
    return recipient.startswith(ORGANIZATION_PREFIX)


def is_person(recipient: str) -> bool:
    """True for a normalised national-identity-number URN (the only ones KRR knows)."""
    return recipient.startswith(PERSON_PREFIX)


def without_prefix(recipient: str) -> str:
    """The last ``:``-separated segment (organisation number, identity number, e-mail...)."""
    return recipient.rsplit(":", 1)[-1]
