"""The attachment record store with the lifecycle's link, unlink and scan-result decisions, as the
correspondence code runs them (``attachment_links``, ``malware_scan_result``), on Azurite."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from shared.core import errors
from shared.core.documents import AttachmentStatusEvent
from shared.core.statuses import AttachmentStatus
from shared.rules import attachment_lifecycle
from shared.storage import attachment_store as store
from shared.use_cases.attachment_links import AttachmentLinks, release
from tests.support import attachments as att

pytestmark = pytest.mark.usefixtures("app_env")


def published(issuer) -> uuid.UUID:
    attachment_id = att.create(issuer)
    assert att.upload(issuer, attachment_id, b"data").status == 200
    return uuid.UUID(attachment_id)


def set_scan_result(attachment_id, clean, text):
    updated = store.update(attachment_id, lambda r: attachment_lifecycle.apply_scan_result(r, clean, text))
    return None if updated is None else updated.document


def code_of(excinfo) -> int:
    return excinfo.value.entry.error_code


def test_read_and_current_status(token_issuer):
    attachment_id = published(token_issuer)
    record = store.read(attachment_id)
    assert record.id == attachment_id and record.status is AttachmentStatus.Published
    assert store.read(uuid.uuid4()) is None


def test_current_status_is_the_latest_by_time_not_by_position(token_issuer):
    record = store.read(published(token_issuer))
    last = record.statusHistory[-1]
    record.statusHistory.insert(0, AttachmentStatusEvent(status=AttachmentStatus.Failed, statusText="x", statusChanged=last.statusChanged + timedelta(seconds=1)))
    assert record.status is AttachmentStatus.Failed


def _linked(attachment_id) -> list:
    return [(link.requestKey, link.positions()) for link in store.read(attachment_id).links]


def test_link_unlink_and_release(token_issuer):
    attachment_id = published(token_issuer)
    a = att.unstored_request(count=3)
    b = att.unstored_request(count=1)
    links = AttachmentLinks()
    links.link(attachment_id, a)
    links.link(attachment_id, a)  # idempotent: one link per request
    links.link(attachment_id, b)
    assert _linked(attachment_id) == [(a.requestKey, [0, 1, 2]), (b.requestKey, [0])]
    release(attachment_id, a.requestKey, 1)  # one correspondence of a was purged
    release(attachment_id, a.requestKey, 1)
    assert _linked(attachment_id) == [(a.requestKey, [0, 2]), (b.requestKey, [0])]
    links.unlink(attachment_id, b.requestKey)  # b did not commit
    links.unlink(attachment_id, b.requestKey)
    assert _linked(attachment_id) == [(a.requestKey, [0, 2])]
    links.unlink(uuid.uuid4(), b.requestKey)  # unknown attachment: nothing to undo
    ids = att.correspondence_ids(a)
    assert att.overview(token_issuer, str(attachment_id)).json()["correspondenceIds"] == [str(ids[0]), str(ids[2])]


def test_a_link_is_one_entry_whatever_the_number_of_recipients(token_issuer):
    attachment_id = published(token_issuer)
    small = len(store.read(attachment_id).to_bytes())
    att.link(attachment_id, count=500)
    assert len(store.read(attachment_id).to_bytes()) - small < 300


def test_link_requires_published_and_not_purged(token_issuer):
    initialized = uuid.UUID(att.create(token_issuer))
    with pytest.raises(errors.ProblemError) as excinfo:
        att.link(initialized)
    assert code_of(excinfo) == 1018
    purged = published(token_issuer)
    att.purge(token_issuer, str(purged))
    with pytest.raises(errors.ProblemError) as excinfo:
        att.link(purged)
    assert code_of(excinfo) == 1018
    with pytest.raises(errors.ProblemError) as excinfo:
        att.link(uuid.uuid4())
    assert code_of(excinfo) == 1007


def test_link_racing_with_purge_never_leaves_a_linked_purged_attachment(token_issuer, monkeypatch):
    """The purge lands between link's read and its write: link's ETag write fails, it re-reads,
    sees Purged and raises 1018."""
    attachment_id = published(token_issuer)
    real = store.read_with_etag
    purged = []

    def read_then_purge(aid):
        found = real(aid)
        if not purged:
            purged.append(True)
            assert att.purge(token_issuer, str(aid)).status == 204
        return found

    monkeypatch.setattr(store, "read_with_etag", read_then_purge)
    with pytest.raises(errors.ProblemError) as excinfo:
        att.link(attachment_id)
    assert code_of(excinfo) == 1018
    monkeypatch.undo()
    record = store.read(attachment_id)
    assert record.has_status(AttachmentStatus.Purged) and record.links == []


def test_concurrent_links_keep_every_request(token_issuer):
    attachment_id = published(token_issuer)
    requests = [att.unstored_request() for _ in range(8)]
    threads = [threading.Thread(target=AttachmentLinks().link, args=(attachment_id, r)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(key for key, _ in _linked(attachment_id)) == sorted(r.requestKey for r in requests)


def test_scan_result_clean_publishes_an_upload_in_processing(token_issuer, monkeypatch):
    monkeypatch.setenv("MALWARE_SCAN_MODE", "defender")
    attachment_id = uuid.UUID(att.create(token_issuer))
    att.upload(token_issuer, str(attachment_id), b"x")
    record = set_scan_result(attachment_id, True, "Published")
    assert record.status is AttachmentStatus.Published
    again = set_scan_result(attachment_id, True, "Published")  # duplicate event
    assert [e.status for e in again.statusHistory].count("Published") == 1


def test_scan_result_malicious_fails_even_a_published_attachment(token_issuer):
    attachment_id = published(token_issuer)
    request = att.link(attachment_id)
    record = set_scan_result(attachment_id, False, "Malware scan failed: Malicious")
    assert record.status is AttachmentStatus.Failed
    assert record.current().statusText == "Malware scan failed: Malicious"
    assert [link.requestKey for link in record.links] == [request.requestKey]  # for the caller to fail them


def test_scan_result_clean_does_not_revive_a_failed_or_purged_attachment(token_issuer):
    failed = uuid.UUID(att.create(token_issuer, checksum="0" * 32))
    att.upload(token_issuer, str(failed), b"x")  # 2008 -> Failed
    assert set_scan_result(failed, True, "Published").status is AttachmentStatus.Failed
    purged = published(token_issuer)
    att.purge(token_issuer, str(purged))
    assert set_scan_result(purged, False, "bad").status is AttachmentStatus.Purged
    assert set_scan_result(uuid.uuid4(), True, "Published") is None
