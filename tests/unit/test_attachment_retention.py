"""The scan verdict, retention and quota rules, as pure functions (the clock is an argument)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared.core import errors
from shared.core.documents import AttachmentRecord, UploadQuota, UploadState
from shared.core.statuses import AttachmentStatus
from shared.rules import attachment_lifecycle as lifecycle
from shared.rules import attachment_retention as retention
from shared.rules import upload_quota

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def record(*statuses: AttachmentStatus, **fields) -> AttachmentRecord:
    r = AttachmentRecord(id=uuid.uuid4(), resourceId="ttd-corr-1", sender="urn:altinn:organization:identifier-no:991825827",
                         sendersReference="r", dataType="application/pdf", created=T0, **fields)
    for n, status in enumerate(statuses or (AttachmentStatus.Initialized,)):
        r.add_status(status, when=T0 + timedelta(seconds=n))
    return r


WAITING = (AttachmentStatus.Initialized, AttachmentStatus.UploadProcessing)


# --- the scan verdict (issue #18 rows 1 and 2) ----------------------------------------------


def test_a_clean_verdict_publishes_a_finished_upload_of_the_same_length() -> None:
    r = record(*WAITING, size=10)
    assert lifecycle.apply_scan_verdict(r, "No threats found", 10).outcome == lifecycle.VERDICT_APPLIED
    assert r.status is AttachmentStatus.Published


@pytest.mark.parametrize("verdict", ["no threats found", "No threats found ", "Not Scanned", "Error", "Malicious", ""])
def test_only_the_exact_clean_verdict_is_clean(verdict: str) -> None:
    r = record(*WAITING, size=10)
    lifecycle.apply_scan_verdict(r, verdict, 10)
    assert r.status is AttachmentStatus.Failed


def test_a_clean_verdict_waits_while_the_upload_is_still_finishing() -> None:
    r = record(*WAITING, size=None, upload=UploadState(mode="chunked", started=T0, total=10))
    decision = lifecycle.apply_scan_verdict(r, "No threats found", 10)
    assert (decision.write, decision.outcome) == (False, lifecycle.VERDICT_PENDING)


def test_a_clean_verdict_for_other_bytes_is_ignored() -> None:
    r = record(*WAITING, size=10)
    decision = lifecycle.apply_scan_verdict(r, "No threats found", 11)
    assert (decision.write, decision.outcome, r.status) == (False, lifecycle.VERDICT_IGNORED, AttachmentStatus.UploadProcessing)


def test_no_verdict_is_pending_only_for_an_attachment_that_waits_for_one() -> None:
    assert lifecycle.apply_scan_verdict(record(*WAITING, size=1), None, 1).outcome == lifecycle.VERDICT_PENDING
    published = record(*WAITING, AttachmentStatus.Published, size=1)
    assert lifecycle.apply_scan_verdict(published, None, 1).outcome == lifecycle.VERDICT_IGNORED


def test_a_malicious_verdict_fails_even_a_published_attachment_but_not_a_gone_one() -> None:
    published = record(*WAITING, AttachmentStatus.Published, size=1)
    assert lifecycle.apply_scan_verdict(published, "Malicious", 1).outcome == lifecycle.VERDICT_APPLIED
    assert published.status is AttachmentStatus.Failed
    assert published.current().statusText == "Malware scan failed: Malicious"
    for gone in (AttachmentStatus.Purged, AttachmentStatus.Expired):
        r = record(*WAITING, AttachmentStatus.Published, gone, size=1)
        assert not lifecycle.apply_scan_verdict(r, "Malicious", 1).write


# --- retention (issue #18 row 9) ---------------------------------------------------------------


def test_expiry_is_due_only_after_expires_at() -> None:
    r = record(*WAITING, AttachmentStatus.Published, expiresAt=T0 + 24 * HOUR)
    assert retention.expire(r, T0 + 23 * HOUR).write is False and r.status is AttachmentStatus.Published
    decision = retention.expire(r, T0 + 24 * HOUR + timedelta(seconds=1))
    assert (decision.write, decision.outcome, r.status) == (True, True, AttachmentStatus.Expired)
    again = retention.expire(r, T0 + 48 * HOUR)  # the file still has to go
    assert (again.write, again.outcome) == (False, True)
    retention.file_deleted(r, T0 + 48 * HOUR)
    assert retention.expire(r, T0 + 72 * HOUR).outcome is False
    assert "expiresAt" not in r.pending_deadlines()


def test_purged_and_never_linked_attachments_never_expire() -> None:
    assert retention.expire(record(AttachmentStatus.Purged, expiresAt=T0), T0 + HOUR).outcome is False
    assert retention.expire(record(*WAITING, AttachmentStatus.Published), T0 + 1000 * HOUR).outcome is False
    assert record(AttachmentStatus.Purged, expiresAt=T0).pending_deadlines() == {}


def test_an_open_upload_is_abandoned_at_its_deadline_unless_it_is_completing() -> None:
    state = UploadState(mode="chunked", started=T0, total=10, abandonAt=T0 + 24 * HOUR)
    r = record(*WAITING, upload=state)
    assert r.pending_deadlines() == {"abandonAt": T0 + 24 * HOUR}
    assert retention.abandon_upload(r, T0 + 23 * HOUR).write is False
    completing = record(*WAITING, upload=state.model_copy(update={"completing": T0 + 24 * HOUR}))
    assert retention.abandon_upload(completing, T0 + 24 * HOUR + timedelta(minutes=1)).write is False
    decision = retention.abandon_upload(r, T0 + 24 * HOUR + timedelta(seconds=1))
    assert decision.write and decision.outcome.mode == "chunked"
    assert r.status is AttachmentStatus.Failed and r.upload is None and r.pending_deadlines() == {}


def test_new_uploads_carry_their_deadline(monkeypatch) -> None:
    monkeypatch.setenv("ATTACHMENT_UPLOAD_TIMEOUT_HOURS", "5")
    r = record()
    lifecycle.start_chunked_upload(r, 10, 8, None, None)
    assert r.upload.abandonAt - r.upload.started == 5 * HOUR
    single = record()
    lifecycle.start_single_upload(single)
    assert single.upload.abandonAt - single.upload.started == lifecycle.SINGLE_UPLOAD_MAX_DURATION


# --- the quota ----------------------------------------------------------------------------------


def test_quota_reserves_refuses_and_releases() -> None:
    quota = UploadQuota(organization="991825827")
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stale = T0 - 25 * HOUR
    assert upload_quota.reserve(quota, a, 60, 100, T0, stale).write
    assert not upload_quota.reserve(quota, a, 60, 100, T0, stale).write  # the same upload again
    with pytest.raises(errors.HttpProblem) as full:
        upload_quota.reserve(quota, b, 50, 100, T0, stale)
    assert full.value.status == 429 and full.value.headers["Retry-After"]
    with pytest.raises(errors.HttpProblem) as never:
        upload_quota.reserve(quota, c, 101, 100, T0, stale)
    assert never.value.status == 413
    assert upload_quota.release(quota, a).write and not upload_quota.release(quota, a).write
    assert upload_quota.reserve(quota, b, 50, 100, T0, stale).write and quota.used() == 50


def test_stale_reservations_are_dropped() -> None:
    quota = UploadQuota(organization="991825827")
    old = uuid.uuid4()
    upload_quota.reserve(quota, old, 90, 100, T0 - 30 * HOUR, T0 - 60 * HOUR)
    upload_quota.reserve(quota, uuid.uuid4(), 90, 100, T0, upload_quota.stale_before(T0, 24 * HOUR))
    assert str(old) not in quota.uploads and quota.used() == 90
