"""The cap on bytes in unfinished uploads, per organisation (OWASP API4).

A chunked upload declares its total size with its first chunk and may then stay open for up
to ``ATTACHMENT_UPLOAD_TIMEOUT_HOURS`` before the retention job abandons it. Without a cap, one
organisation could declare any number of 50 GB uploads and hold the staged blocks (and the
storage bill) for that long. So the first chunk of an upload reserves its declared total on
the organisation's quota document (``shared.storage.upload_quota``, written with ETags), and
the reservation is released when the upload finishes, fails, is purged or is abandoned.

* The cap is ``ATTACHMENT_UPLOAD_QUOTA_BYTES`` (default 100 GB: two uploads of upstream's
  50 GB maximum at once), and at most ``MAX_OPEN_UPLOADS`` uploads per organisation.
* Over the cap: 429 with ``Retry-After`` (room comes back as other uploads finish); an upload
  whose declared total alone exceeds the cap: 413 (it can never fit).
* Reservations are keyed by attachment id, so reserving and releasing are idempotent; one
  older than the upload timeout belongs to an upload the retention job abandons, and is
  dropped at the next change of the document, so a lost release cannot hold quota forever.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.core import errors, settings
from shared.core.decisions import Decision, keep, save
from shared.core.documents import QuotaReservation, UploadQuota
from shared.core.clock import as_utc

DEFAULT_QUOTA_BYTES = 100_000_000_000
# Bounds the document (about 100 bytes per entry); far more parallel uploads than any client needs.
MAX_OPEN_UPLOADS = 1000
RETRY_AFTER_SECONDS = "60"


def quota_bytes() -> int:
    value = settings.get_int(settings.ATTACHMENT_UPLOAD_QUOTA_BYTES, DEFAULT_QUOTA_BYTES)
    if value < 1:
        raise ValueError(f"App setting {settings.ATTACHMENT_UPLOAD_QUOTA_BYTES} must be a positive integer")
    return value


def _prune(quota: UploadQuota, stale_before: datetime) -> bool:
    stale = [key for key, entry in quota.uploads.items() if as_utc(entry.started) < stale_before]
    for key in stale:
        del quota.uploads[key]
    return bool(stale)


def reserve(
    quota: UploadQuota, attachment_id: uuid.UUID, total: int, cap: int, now: datetime, stale_before: datetime
) -> Decision[None]:
    """Reserve ``total`` bytes for this upload, or refuse (413 / 429) without writing."""
    key = str(attachment_id)
    pruned = _prune(quota, stale_before)
    if key in quota.uploads:  # a parallel chunk of the same upload reserved it already
        return Decision(pruned)
    if total > cap:
        raise errors.HttpProblem(
            413, f"This upload declares more bytes than your organisation may have in unfinished uploads ({cap})."
        )
    if quota.used() + total > cap or len(quota.uploads) >= MAX_OPEN_UPLOADS:
        raise errors.HttpProblem(
            429,
            f"Your organisation's unfinished chunked uploads would exceed {cap} bytes (or {MAX_OPEN_UPLOADS} "
            "uploads). Finish or purge some, or retry later: unfinished uploads are abandoned after a while.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    quota.uploads[key] = QuotaReservation(bytes=total, started=now)
    return save()


def release(quota: UploadQuota, attachment_id: uuid.UUID) -> Decision[None]:
    if quota.uploads.pop(str(attachment_id), None) is None:
        return keep()
    return save()


def stale_before(now: datetime, upload_timeout: timedelta) -> datetime:
    """Reservations started before this belong to uploads the retention job abandons."""
    return now - upload_timeout - timedelta(hours=1)
