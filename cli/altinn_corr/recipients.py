"""Recipient format check, the same rules the API applies (shared/models/recipients.py).

The CLI must not import the server package, so the format rules are repeated here (a test in
tests/cli compares both on the same samples). They let a bulk send refuse a bad CSV row before
the first request, instead of after 500 recipients were already sent.
"""

from __future__ import annotations

import re

ORGANIZATION_PREFIX = "urn:altinn:organization:identifier-no:"
PERSON_PREFIX = "urn:altinn:person:identifier-no:"
EMAIL_PREFIX = "urn:altinn:person:idporten-email:"

_RECIPIENT = re.compile(
    r"(?:0192:|urn:altinn:organization:identifier-no:)(?P<org>[0-9]{9})"
    r"|(?:urn:altinn:person:identifier-no:)?(?P<person>[0-9]{11})"
    r"|urn:altinn:person:idporten-email:(?P<email>[^\n]+)"
    r"|(?P<legacy>urn:altinn:person:legacy-selfidentified:[^:]+)"
)


class InvalidRecipient(ValueError):
    """The message never repeats the value (it may be a national identity number)."""


def _check_digit(total: int) -> int:
    result = 11 - total % 11
    return 0 if result == 11 else -1 if result == 10 else result


def is_national_identity_number(value: str) -> bool:
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    d = [int(c) for c in value]
    k1 = _check_digit(sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d)))
    if k1 != d[9]:
        return False
    return _check_digit(sum(w * x for w, x in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d))) == d[10]


def normalize(value: str) -> str:
    """The normalised URN the API stores, or InvalidRecipient with the reason."""
    match = _RECIPIENT.fullmatch(value)
    if match is None:
        if not value.strip():
            raise InvalidRecipient("empty recipient")
        raise InvalidRecipient(
            "not a recipient: expected an organisation number (9 digits, 0192:<9 digits> or "
            "urn:altinn:organization:identifier-no:<9 digits>), a national identity number "
            "(11 digits) or urn:altinn:person:idporten-email:<e-mail>"
        )
    kind = match.lastgroup
    if kind == "org":
        return ORGANIZATION_PREFIX + match.group("org")
    if kind == "person":
        if not is_national_identity_number(match.group("person")):
            raise InvalidRecipient("national identity number with wrong check digits")
        return PERSON_PREFIX + match.group("person")
    if kind == "email":
        email = match.group("email")
        local, _, domain = email.partition("@")
        if ":" in email or email.count("@") != 1 or not local or not domain:
            raise InvalidRecipient("not a valid e-mail address")
        return EMAIL_PREFIX + email.lower()
    return value.lower()
