"""Step 23 (behaviour §3.5): an existing attachment whose links expire within 6 hours is refused
with 1055; linking records the expiry that ``expirationInDays`` gives (Azurite)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import as_utc, utcnow
from shared.models.correspondence import parse_initialize_request
from shared.storage import attachment_store
from shared.use_cases.initialize_correspondence import initialize_correspondence
from tests.support import attachments as att
from tests.support.functions import valid_request

pytestmark = pytest.mark.usefixtures("app_env")

CALLER = Caller(organization="991825827", issuer="test", scopes=frozenset({"altinn:correspondence.write"}), token_kind="altinn")


def _published(token_issuer, **fields) -> uuid.UUID:
    attachment_id = att.create(token_issuer, **fields)
    assert att.upload(token_issuer, attachment_id, b"data").status == 200
    return uuid.UUID(attachment_id)


def _send(attachment_id: uuid.UUID, now=None):
    request = parse_initialize_request(valid_request(existingAttachments=[str(attachment_id)]))
    return initialize_correspondence(CALLER, request, now=now)


def test_a_link_records_when_it_expires(token_issuer) -> None:
    attachment_id = _published(token_issuer, expirationInDays=2)
    before = utcnow()
    _send(attachment_id)
    expires = as_utc(attachment_store.read(attachment_id).expiresAt)
    assert before + timedelta(days=2) <= expires <= utcnow() + timedelta(days=2)


def test_an_attachment_that_expires_within_six_hours_is_1055(token_issuer) -> None:
    attachment_id = _published(token_issuer, expirationInDays=1)
    _send(attachment_id)  # expires a day from now
    later = utcnow() + timedelta(hours=18, minutes=1)  # now less than 6 hours before the expiry
    with pytest.raises(errors.ProblemError) as excinfo:
        _send(attachment_id, now=later)
    assert excinfo.value.entry.error_code == 1055
    # Still usable while more than 6 hours remain.
    _send(attachment_id, now=utcnow() + timedelta(hours=17))


def test_an_attachment_without_expiry_never_is_1055(token_issuer) -> None:
    attachment_id = _published(token_issuer)
    _send(attachment_id)
    assert attachment_store.read(attachment_id).expiresAt is None
    _send(attachment_id, now=utcnow() + timedelta(days=365))
