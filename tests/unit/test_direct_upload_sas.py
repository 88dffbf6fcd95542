"""The upload URL's signature with a managed identity (no account key): a user-delegation SAS,
create and write only. (Azurite has no Entra ID; the account-key SAS is tested against it in
tests/integration/test_direct_upload.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from azure.storage.blob import BlobServiceClient, UserDelegationKey

from shared.storage import clients, direct_upload


class FakeIdentityService:
    """A BlobServiceClient with a token credential: it has no account key."""

    def __init__(self) -> None:
        self.real = BlobServiceClient("https://acct.blob.core.windows.net")
        self.account_name = "acct"
        self.credential = object()
        self.asked: list[tuple[datetime, datetime]] = []

    def get_user_delegation_key(self, start: datetime, expiry: datetime) -> UserDelegationKey:
        self.asked.append((start, expiry))
        key = UserDelegationKey()
        key.signed_oid, key.signed_tid = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
        key.signed_start, key.signed_expiry = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
        key.signed_service, key.signed_version = "b", "2025-01-05"
        key.value = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U="
        return key

    def get_blob_client(self, container: str, name: str):
        return self.real.get_blob_client(container, name)


def test_without_an_account_key_the_url_is_a_user_delegation_sas_for_cw_only(monkeypatch) -> None:
    fake = FakeIdentityService()
    monkeypatch.setattr(clients, "blob_service", lambda profile="request": fake)
    monkeypatch.setattr(clients, "ensure_storage_once", lambda: None)
    now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    url = direct_upload.upload_url("abc/def", now, now + timedelta(minutes=60))
    parts = urlsplit(url)
    assert parts.path == f"/{clients.UPLOADS_CONTAINER}/abc/def"
    query = parse_qs(parts.query)
    assert query["sp"] == ["cw"] and query["sr"] == ["b"]
    assert query["skoid"] == ["00000000-0000-0000-0000-000000000001"]  # signed by the delegation key
    assert fake.asked == [(now - direct_upload.CLOCK_SKEW, now + timedelta(minutes=60))]
    # the copy source is a read-only SAS from the same kind of key
    source = parse_qs(urlsplit(direct_upload._copy_source("abc/def", now)).query)
    assert source["sp"] == ["r"] and "skoid" in source
