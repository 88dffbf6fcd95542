"""``POST /correspondence/api/v1/attachment/{attachmentId}/upload/complete``: finish a direct upload.

After the client uploaded to the URL from ``.../upload/url``: claim the completion (of two,
one gets 2005), check the staging blob is committed and as long as declared (400 otherwise;
the upload stays open, so the client can upload again, with a new URL if it expired), copy it
server-side into the attachment's blob, where no URL can reach it, compute the MD5 of that
copy (ranged parallel reads fed to hashlib in order: memory flat in the file size), delete the
staging blob, and finish exactly as an upload does (``upload_attachment.finish_upload``): 2008 on a
mismatch with the declared checksum (blob deleted, ``Failed``), else size and MD5 recorded and
``Published`` (or ``UploadProcessing`` until the malware scan). The quota reservation is
released once the upload is over. The answer is the upload endpoint's: the overview.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Optional

from azure.core.exceptions import AzureError

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import utcnow
from shared.core.identifiers import organization_of
from shared.core.operations import Answer, Operation
from shared.models.responses import AttachmentOverview
from shared.rules import attachment_lifecycle as lifecycle
from shared.storage import direct_upload
from shared.use_cases.attachment_access import accessible, update_existing
from shared.use_cases.get_attachment import get_attachment
from shared.use_cases.upload_attachment import finish_upload, release_completion, release

logger = logging.getLogger(__name__)

OPERATION = Operation(
    summary="Complete a direct upload: verify the uploaded blob and publish the attachment",
    description="After uploading to the URL from POST .../upload/url. Answers as the upload endpoint does.",
    tags=("Attachment",),
    answers=(Answer(200, "Uploaded: the attachment's overview.", AttachmentOverview),),
    errors=(
        errors.ATTACHMENT_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.FILE_ALREADY_UPLOADED,
        errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE,
        errors.FILE_ALREADY_PURGED,
        errors.CHECKSUM_MISMATCH,
        errors.UPLOAD_FAILED,
    ),
    problems=(
        (400, "No upload URL was asked for, nothing was uploaded to it (no committed blob), or the "
              "uploaded blob's length differs from the size the URL was asked for."),
    ),
)


def upload_attachment_complete(caller: Caller, attachment_id: uuid.UUID) -> AttachmentOverview:
    upload_error: Optional[Exception] = None
    try:
        _complete(caller, attachment_id)
    except (errors.ProblemError, errors.HttpProblem) as exc:
        upload_error = exc
    # Quirk Q13, as the upload endpoint: the overview is fetched after the attempt; its error wins.
    overview = get_attachment(caller, attachment_id)
    if upload_error is not None:
        raise upload_error
    return overview


def _complete(caller: Caller, attachment_id: uuid.UUID) -> None:
    record = accessible(caller, attachment_id)  # 2001, 4001
    state = update_existing(attachment_id, lambda r: lifecycle.claim_direct_completion(r, utcnow())).outcome
    assert state is not None and state.staging is not None and state.total is not None
    timings: dict[str, float] = {}
    try:
        size = direct_upload.staged_size(state.staging)
        if size is None:
            raise errors.HttpProblem(
                400, "Nothing was uploaded to the upload URL (no committed blob): upload the file, then complete."
            )
        if size != state.total:
            raise errors.HttpProblem(400, f"The uploaded blob is {size} bytes long; the upload URL was asked for {state.total}.")
        started = time.perf_counter()
        direct_upload.copy_into_place(state.staging, attachment_id, utcnow())
        timings["copy"] = time.perf_counter() - started
        started = time.perf_counter()
        md5 = direct_upload.md5_of_attachment(attachment_id, size)
        timings["md5"] = time.perf_counter() - started
    except (AzureError, direct_upload.CopyFailed) as exc:
        logger.warning("completing the direct upload of %s failed (%s)", attachment_id, type(exc).__name__)
        release_completion(attachment_id)  # the client may complete again
        raise errors.UPLOAD_FAILED.error() from None
    except BaseException:
        release_completion(attachment_id)
        raise
    direct_upload.delete_staging(state.staging)
    # Where complete spends its time (docs/benchmarks.md); no personal data in it.
    logger.info("attachment %s: direct upload of %d bytes copied in %.2f s, hashed in %.2f s",
                attachment_id, size, timings["copy"], timings["md5"])
    organization = organization_of(record.sender)
    try:
        finish_upload(attachment_id, size, md5)
    finally:  # finished or failed its checksum: the upload is over either way
        release(organization, attachment_id)
