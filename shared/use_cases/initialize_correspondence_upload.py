"""Initialize correspondences with their files in one ``multipart/form-data`` request
(``POST /correspondence/api/v1/correspondence/upload``, behaviour §3.10).

The flow, with the JSON endpoint's guarantees (no correspondence when any step fails)::

    parse the body (memoryview slices, no copies of the files: ``shared.api.multipart``)
    -> bind the form fields by model path -> the JSON endpoint's models (400 STD-00000, 3023:
       ``shared.api.form_binding``)
    -> every rule of behaviour §3.5 in upstream's order (``initialize_correspondence.prepare``), with the
       multipart checks of steps 21-22: file-name rules, files matched to metadata (1005),
       per-file size (2004), expiration (2017)
    -> declared checksums verified (2008, step 27) before anything is stored
    -> each file stored as a new attachment (``Initialized`` -> ``UploadProcessing`` -> MD5 ->
       ``Published`` when no malware scanner is configured)
    -> ``initialize_correspondence.commit``: correspondences stored and queued, all or nothing.

If storing a file or the commit fails, the files already stored remain as attachments (as
upstream) but no correspondence exists.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.operations import Answer, Operation
from shared.core.statuses import AttachmentStatus
from shared.models.correspondence import (
    CorrespondenceAttachment,
    InitializeCorrespondencesRequest,
)
from shared.models.responses import InitializeCorrespondencesResponse
from shared.rules.new_files import NamedFile, NewFiles
from shared.use_cases.initialize_attachment import create_attachment
from shared.use_cases.initialize_correspondence import (
    CORRESPONDENCE_LINKS,
    EXAMPLE,
    RULE_ERRORS,
    NewAttachments,
    PreparedRequest,
    commit,
    prepare,
)
from shared.use_cases.upload_attachment import upload_new_file

logger = logging.getLogger(__name__)

STORE_CONCURRENCY = 4  # files stored at a time (each stages up to 4 blocks in parallel)

_pool = ThreadPoolExecutor(max_workers=STORE_CONCURRENCY, thread_name_prefix="multipart")

def form_fields(value: object, path: str = "") -> dict[str, object]:
    """The JSON model's example as the form fields docs/multipart.md names (``a.b[0].c``)."""
    if isinstance(value, dict):
        items = [(f"{path}.{key}" if path else key, item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        return {path: value}
    found: dict[str, object] = {}
    for name, item in items:
        found.update(form_fields(item, name))
    return found


OPERATION = Operation(
    summary="Initialize correspondences with their files in one multipart/form-data request",
    description="Form fields are the JSON model's paths (docs/multipart.md); file parts are named "
    "attachments. The host caps a request at 100 MB.",
    tags=("Correspondence",),
    request=("multipart/form-data", {"type": "object", "additionalProperties": True}),
    request_example=form_fields(EXAMPLE),
    bound_to=InitializeCorrespondencesRequest,
    answers=(Answer(200, "Files stored, correspondences stored and queued.", InitializeCorrespondencesResponse),),
    errors=RULE_ERRORS + (
        errors.INVALID_FILE_SIZE,
        errors.EXPIRATION_TOO_SHORT,
        errors.CHECKSUM_MISMATCH,
        errors.UPLOAD_FAILED,
    ),
    links=CORRESPONDENCE_LINKS,
)


def _store_files(prepared: PreparedRequest, new_files: NewFiles) -> NewAttachments:
    """Each matched file as a new attachment, a few at a time; the first failure (in metadata
    order) is raised once every started upload has ended. Stored files stay stored."""
    resource_id = prepared.request.correspondence.resource_id

    def store(item: tuple[CorrespondenceAttachment, NamedFile]):
        metadata, file = item
        attachment_id = create_attachment(resource_id, prepared.sender, metadata)
        return upload_new_file(attachment_id, file.data)

    futures = [_pool.submit(store, item) for item in new_files.matched]
    records, failure = [], None
    for future in futures:
        try:
            records.append(future.result())
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others end
            failure = failure or exc
    if failure is not None:
        logger.warning("multipart initialize: %d of %d files stored before a failure", len(records), len(futures))
        raise failure
    return NewAttachments(
        ids=[record.id for record in records],
        all_published=all(r.status is AttachmentStatus.Published for r in records),
    )


def initialize_correspondence_upload(
    caller: Caller, request: InitializeCorrespondencesRequest, files: Sequence[NamedFile]
) -> InitializeCorrespondencesResponse:
    """The whole multipart initialize, once the form is bound (see the module docstring)."""
    new_files = NewFiles(files)
    prepared = prepare(
        caller, request, check_new_attachments=new_files, new_files_total_size=new_files.total_size
    )
    new_files.check_checksums()
    new_attachments = _store_files(prepared, new_files) if new_files.matched else NewAttachments()
    response = commit(prepared, new_attachments)
    logger.info(
        "multipart initialize: %d correspondences, %d new attachments",
        len(response.correspondences), len(new_attachments.ids),
    )
    return response
