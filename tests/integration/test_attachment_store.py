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
from shared.use_cases.attachment_links import AttachmentLinks
from tests.support import attachments as att

pytestmark = pytest.mark.usefixtures("app_env")


def published(issuer) -> uuid.UUID:
    attachment_id = att.create(issuer)
    assert att.upload(issuer, attachment_id, b"data").status == 200
    return uuid.UUID(attachment_id)


def link(attachment_id, correspondence_ids) -> None:
    AttachmentLinks().link(attachment_id, correspondence_ids)


def unlink(attachment_id, correspondence_ids) -> None:
    AttachmentLinks().unlink(attachment_id, correspondence_ids)


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


def test_link_and_unlink(token_issuer):
    attachment_id = published(token_issuer)
    a, b = uuid.uuid4(), uuid.uuid4()
    link(attachment_id, [a, b])
    link(attachment_id, [a])  # idempotent
    assert store.read(attachment_id).correspondenceIds == [a, b]
    unlink(attachment_id, [a])
    unlink(attachment_id, [a])
    assert store.read(attachment_id).correspondenceIds == [b]
    unlink(uuid.uuid4(), [a])  # unknown attachment: nothing to undo


def test_link_requires_published_and_not_purged(token_issuer):
    initialized = uuid.UUID(att.create(token_issuer))
    with pytest.raises(errors.ProblemError) as excinfo:
        link(initialized, [uuid.uuid4()])
    assert code_of(excinfo) == 1018
    purged = published(token_issuer)
    att.purge(token_issuer, str(purged))
    with pytest.raises(errors.ProblemError) as excinfo:
        link(purged, [uuid.uuid4()])
    assert code_of(excinfo) == 1018
    with pytest.raises(errors.ProblemError) as excinfo:
        link(uuid.uuid4(), [uuid.uuid4()])
    assert code_of(excinfo) == 1007


def test_link_racing_with_purge_never_leaves_a_linked_purged_attachment(token_issuer, monkeypatch):
    """The purge lands between link's read and its write: link's ETag write fails, it re-reads,
    sees Purged and raises 1018."""
    attachment_id = published(token_issuer)
    real = store.read_with_etag
    state = {"purged": False}

    def read_then_purge(aid):
        found = real(aid)
        if not state["purged"]:
            state["purged"] = True
            assert att.purge(token_issuer, str(aid)).status == 204
        return found

    monkeypatch.setattr(store, "read_with_etag", read_then_purge)
    with pytest.raises(errors.ProblemError) as excinfo:
        link(attachment_id, [uuid.uuid4()])
    assert code_of(excinfo) == 1018
    monkeypatch.undo()
    record = store.read(attachment_id)
    assert record.has_status(AttachmentStatus.Purged) and record.correspondenceIds == []


def test_concurrent_links_keep_every_correspondence(token_issuer):
    attachment_id = published(token_issuer)
    ids = [uuid.uuid4() for _ in range(8)]
    threads = [threading.Thread(target=link, args=(attachment_id, [cid])) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(store.read(attachment_id).correspondenceIds) == sorted(ids)


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
    cid = uuid.uuid4()
    link(attachment_id, [cid])
    record = set_scan_result(attachment_id, False, "Malware scan failed: Malicious")
    assert record.status is AttachmentStatus.Failed
    assert record.current().statusText == "Malware scan failed: Malicious"
    assert record.correspondenceIds == [cid]  # for the caller to fail them


def test_scan_result_clean_does_not_revive_a_failed_or_purged_attachment(token_issuer):
    failed = uuid.UUID(att.create(token_issuer, checksum="0" * 32))
    att.upload(token_issuer, str(failed), b"x")  # 2008 -> Failed
    assert set_scan_result(failed, True, "Published").status is AttachmentStatus.Failed
    purged = published(token_issuer)
    att.purge(token_issuer, str(purged))
    assert set_scan_result(purged, False, "bad").status is AttachmentStatus.Purged
    assert set_scan_result(uuid.uuid4(), True, "Published") is None
