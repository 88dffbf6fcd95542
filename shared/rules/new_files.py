"""The files of a multipart initialize against their metadata (behaviour §3.10, §3.5 steps 21-22).

Parts named ``attachments`` (any case) with a non-empty ``filename`` (``filename*`` wins) are
the files, in form order. Per file: 1 byte .. 2,000,000,000 bytes (2004, upstream's limit);
the real limit is the host's: the Functions HTTP trigger refuses a request body over 100 MB
(104,857,600 bytes) with 413 before the function runs, so all files together (plus the form)
must stay under that. Larger files: ``POST /attachment`` + chunked upload, then
``existingAttachments`` (docs/attachments.md).
"""

from __future__ import annotations

import hashlib
from typing import Protocol, Sequence

from shared.core import errors
from shared.models.correspondence import (
    CorrespondenceAttachment,
    InitializeCorrespondencesRequest,
)
from shared.rules.attachment_files import check_expiration_days, check_file_name

MAX_FILE_SIZE = 2_000_000_000  # upstream's per-file limit for the multipart variant (2004)
MAX_FILE_SIZE_TEXT = "2GB"


class NamedFile(Protocol):
    filename: str
    data: memoryview


def match_files(attachments: Sequence[CorrespondenceAttachment], files: Sequence[NamedFile]) -> list[NamedFile]:
    """The file of each metadata entry (§3.10), or 1005.

    The i-th entry takes the i-th file when the names are equal; otherwise the file with that
    exact name if exactly one file has it and it is still unused. Counts must be equal.
    Duplicated names in the same order as the metadata match; out of order they are ambiguous.
    """
    if len(files) != len(attachments):
        raise errors.FILES_DO_NOT_MATCH_ATTACHMENTS.error()
    by_name: dict[str, list[int]] = {}
    for index, file in enumerate(files):
        by_name.setdefault(file.filename, []).append(index)
    used: set[int] = set()
    matched: list[NamedFile] = []
    for index, attachment in enumerate(attachments):
        name = attachment.file_name
        if files[index].filename == name and index not in used:
            chosen = index
        else:
            candidates = by_name.get(name or "", [])
            if len(candidates) != 1 or candidates[0] in used:
                raise errors.FILES_DO_NOT_MATCH_ATTACHMENTS.error()
            chosen = candidates[0]
        used.add(chosen)
        matched.append(files[chosen])
    return matched


def _file_size_error() -> errors.ProblemError:
    entry = errors.INVALID_FILE_SIZE
    return entry.error(detail=entry.message.format(limit=MAX_FILE_SIZE_TEXT))


class NewFiles:
    """``check_new_attachments`` for ``prepare`` (steps 21-22); remembers the matched files."""

    def __init__(self, files: Sequence[NamedFile]) -> None:
        self.files = list(files)
        self.matched: list[tuple[CorrespondenceAttachment, NamedFile]] = []

    @property
    def total_size(self) -> int:
        return sum(len(file.data) for file in self.files)

    def __call__(self, request: InitializeCorrespondencesRequest) -> None:
        attachments = request.correspondence.content.attachments
        for attachment in attachments:  # 2010, 2011, 2013, 2012, 2021
            check_file_name(attachment.file_name)
        files = match_files(attachments, self.files)  # 1005
        for file in files:  # 2004
            if not 1 <= len(file.data) <= MAX_FILE_SIZE:
                raise _file_size_error()
        for attachment in attachments:  # step 22: 2017
            check_expiration_days(attachment.expiration_in_days)
        self.matched = list(zip(attachments, files))

    def check_checksums(self) -> None:
        """Step 27's 2008, before anything is stored (upstream stores the file first, fails
        it and deletes the blob; we leave nothing behind)."""
        for attachment, file in self.matched:
            declared = (attachment.checksum or "").strip().lower()
            if declared and hashlib.md5(file.data, usedforsecurity=False).hexdigest() != declared:
                raise errors.CHECKSUM_MISMATCH.error()


