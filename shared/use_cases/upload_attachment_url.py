"""``POST /correspondence/api/v1/attachment/{attachmentId}/upload/url?size=N``: an upload URL.

The valet-key alternative to ``.../upload`` for large files: the answer is a blob SAS URL
valid for ``ATTACHMENT_UPLOAD_URL_MINUTES`` (default 60) that may create and write one staging
blob, nothing else (``shared.storage.direct_upload`` says why a staging blob). The client
uploads with any Azure Storage client, in parallel blocks, then calls ``.../upload/complete``.

Same access rules and order as the upload endpoint: 2001, 4001, 2005 (uploaded or an upload
of another kind open), 2003, 2006. The first URL reserves ``size`` on the organisation's quota
of unfinished uploads (429/413, ``shared.rules.upload_quota``) and starts the upload
(``UploadProcessing``, abandoned by the retention job after ``ATTACHMENT_UPLOAD_TIMEOUT_HOURS``
like a chunked one). Asking again while it is open (say the URL expired) hands out a URL for
a new staging blob and deletes the old one.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Mapping

from shared.auth.caller import Caller
from shared.core import errors, settings
from shared.core.clock import utcnow
from shared.core.identifiers import organization_of
from shared.core.operations import Answer, Operation
from shared.models.binding import validate_model
from shared.models.responses import UploadUrl
from shared.models.upload_url_query import UploadUrlQuery
from shared.rules import attachment_lifecycle as lifecycle
from shared.storage import direct_upload
from shared.use_cases.attachment_access import accessible, update_existing
from shared.use_cases.upload_attachment import release, reserve

logger = logging.getLogger(__name__)

DEFAULT_URL_MINUTES = 60

OPERATION = Operation(
    summary="Get a URL to upload an attachment's file straight to storage (valet key)",
    description="A blob SAS URL (create and write only, one staging blob) for any Azure Storage client "
    "(SDKs, azcopy); then POST .../upload/complete. See docs/attachments.md, Direct upload to storage.",
    tags=("Attachment",),
    query=UploadUrlQuery,
    answers=(Answer(200, "Upload the file to uploadUrl (PUT Blob or Put Block + Put Block List) before expiresAt.", UploadUrl),),
    errors=(
        errors.ATTACHMENT_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.FILE_ALREADY_UPLOADED,
        errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE,
        errors.FILE_ALREADY_PURGED,
    ),
    problems=(
        (400, "size is missing or not a length from 1 byte to 50 GB, or differs from the open direct upload's."),
        (413, "size is more than the organisation's quota of bytes in unfinished uploads."),
        (429, "The organisation's unfinished uploads would exceed its quota (Retry-After)."),
    ),
)


def url_lifetime() -> timedelta:
    minutes = settings.get_int(settings.ATTACHMENT_UPLOAD_URL_MINUTES, DEFAULT_URL_MINUTES)
    if not 1 <= minutes <= 7 * 24 * 60:  # a user delegation key lives at most 7 days
        raise ValueError(f"App setting {settings.ATTACHMENT_UPLOAD_URL_MINUTES} must be from 1 to 10080")
    return timedelta(minutes=minutes)


def upload_attachment_url(caller: Caller, attachment_id: uuid.UUID, query: Mapping[str, str]) -> UploadUrl:
    record = accessible(caller, attachment_id)  # 2001, 4001
    size = validate_model(UploadUrlQuery, dict(query)).size
    lifecycle.check_can_start_upload(record, direct_upload_ok=True)  # 2005, 2003, 2006
    organization = organization_of(record.sender)
    opened_here = record.upload is None
    reserve(organization, attachment_id, size)  # idempotent per attachment
    now = utcnow()
    staging = direct_upload.new_staging_name(attachment_id)
    try:
        updated = update_existing(attachment_id, lambda r: lifecycle.start_direct_upload(r, size, staging, now))
    except BaseException:
        if opened_here:  # no upload of this attachment holds the reservation
            release(organization, attachment_id)
        raise
    previous = updated.outcome
    if previous is not None:
        direct_upload.delete_staging(previous.staging)
    expires_at = now + url_lifetime()
    url = direct_upload.upload_url(staging, now, expires_at)
    logger.info("attachment %s: upload URL handed out, valid until %s", attachment_id, expires_at.isoformat())
    return UploadUrl(upload_url=url, expires_at=expires_at)
