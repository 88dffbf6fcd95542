"""OWASP API1: one organisation can never read, upload to, purge or download another's
attachment. Every case answers 401/4001 and changes nothing."""

from __future__ import annotations

import uuid

import pytest

from shared.storage import attachment_store
from tests.support import attachments as att

pytestmark = pytest.mark.usefixtures("app_env")

OTHER = att.OTHER_ORG


@pytest.fixture
def owned(token_issuer) -> str:
    attachment_id = att.create(token_issuer)
    assert att.upload(token_issuer, attachment_id, b"owned by 991825827").status == 200
    return attachment_id


def assert_4001(response):
    assert response.status == 401, response.body
    assert response.json()["errorCode"] == 4001


def test_other_org_cannot_read_the_overview(token_issuer, owned):
    assert_4001(att.overview(token_issuer, owned, org=OTHER))


def test_other_org_cannot_read_the_details(token_issuer, owned):
    assert_4001(att.details(token_issuer, owned, org=OTHER))


def test_other_org_cannot_upload(token_issuer):
    attachment_id = att.create(token_issuer)
    assert_4001(att.upload(token_issuer, attachment_id, b"intruder", org=OTHER))
    assert_4001(att.upload_chunk(token_issuer, attachment_id, b"intruder", 0, 8, org=OTHER))
    assert_4001(att.query_upload(token_issuer, attachment_id, 8, org=OTHER))
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert record.status == "Initialized" and record.upload is None


def test_other_org_cannot_purge(token_issuer, owned):
    assert_4001(att.purge(token_issuer, owned, org=OTHER))
    assert att.overview(token_issuer, owned).json()["status"] == "Published"


def test_other_org_cannot_download(token_issuer, owned):
    assert_4001(att.download(token_issuer, owned, org=OTHER))


def test_other_org_cannot_initialize_on_a_resource_it_does_not_own(token_issuer):
    assert_4001(att.initialize(token_issuer, resourceId="ttd-corr-1", org=OTHER))


def test_other_org_acts_on_its_own_attachments(token_issuer):
    attachment_id = att.create(token_issuer, org=OTHER, resourceId=att.OTHER_ORG_RESOURCE)
    assert att.upload(token_issuer, attachment_id, b"theirs", org=OTHER).status == 200
    assert_4001(att.download(token_issuer, attachment_id))  # and we cannot read theirs
    assert att.download(token_issuer, attachment_id, org=OTHER).body == b"theirs"


def test_maskinporten_token_of_the_owner_is_accepted(token_issuer, owned):
    headers = token_issuer.authorization(token_issuer.maskinporten_token())
    response = att.get(token_issuer, owned, headers=headers)
    assert response.status == 200
