"""Attachment business rules shared by initialize correspondence (multipart and JSON) and the
attachment endpoints (behaviour §6.2, §3.5 steps 21-22).

* ``check_file_name(name)``: 2010 blank -> 2011 too long -> 2013 extension not allowed ->
  2012 invalid characters -> 2021 reserved Windows device name, first failure wins.
* ``check_expiration_days(days)``: 2017 below the minimum. The minimum is the app setting
  ``ATTACHMENT_MIN_EXPIRATION_DAYS`` when set, else 1 in Development, else 14 (upstream's
  production value).
"""

from __future__ import annotations

import re
from typing import Optional

from shared.core import errors, settings
from shared.models.fields import utf16_length

MAX_FILE_NAME_LENGTH = 255
# Upstream's allowed extensions (behaviour §6.2 rule 3) are exactly the keys of its MIME table
# (§6.4 ``dataType``), so the table is the one list of both.
DATA_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pps": "application/vnd.ms-powerpoint",
    ".zip": "application/zip",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".txt": "text/plain",
    ".xml": "text/xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".png": "image/png",
    ".json": "application/json",
    ".csv": "text/csv",
    ".dcm": "application/dicom",
    ".dicom": "application/dicom",
}
ALLOWED_EXTENSIONS = frozenset(DATA_TYPES)
UNKNOWN_DATA_TYPE = "binary_octet_stream"
# Windows-invalid characters and control characters U+0000-U+001F (this also covers every
# character that is invalid in a file name on the platforms we run on: "/" and NUL).
_INVALID_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED_NAME = re.compile(r"(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\.|$)", re.IGNORECASE)

PRODUCTION_MIN_EXPIRATION_DAYS = 14
DEVELOPMENT_MIN_EXPIRATION_DAYS = 1


def check_file_name(name: Optional[str]) -> None:
    """Raise the first failing file-name rule (2010, 2011, 2013, 2012, 2021)."""
    if name is None or not name.strip():
        raise errors.FILENAME_MISSING.error()
    if utf16_length(name) > MAX_FILE_NAME_LENGTH:
        raise errors.FILENAME_TOO_LONG.error()
    extension = extension_of(name)
    if extension not in ALLOWED_EXTENSIONS:
        raise errors.FILETYPE_NOT_ALLOWED.error(filetype_detail(extension))
    if _INVALID_CHARACTERS.search(name):
        raise errors.FILENAME_INVALID.error()
    if _RESERVED_NAME.match(name):
        raise errors.FILENAME_RESERVED.error()


def filetype_detail(extension: Optional[str]) -> str:
    """2013's detail: upstream says only "Filetype not allowed"; name what was sent and what is
    allowed (the extension is the caller's own input, cut short)."""
    sent = f"'{extension[:20]}'" if extension else "no extension"
    allowed = " ".join(sorted(ALLOWED_EXTENSIONS))
    return f"Filetype not allowed: the file name has {sent}; allowed: {allowed} (see docs/attachments.md)."


def extension_of(file_name: Optional[str]) -> Optional[str]:
    """The extension (from the last ``.``, lower-cased), or ``None`` when there is none."""
    if not file_name or "." not in file_name:
        return None
    return file_name[file_name.rfind("."):].lower()


def data_type_for(file_name: Optional[str]) -> str:
    """MIME type from the extension (case-insensitive), else upstream's ``binary_octet_stream``."""
    return DATA_TYPES.get(extension_of(file_name) or "", UNKNOWN_DATA_TYPE)


def min_expiration_days() -> int:
    """Setting ``ATTACHMENT_MIN_EXPIRATION_DAYS``, else 1 in Development, else 14."""
    default = (
        DEVELOPMENT_MIN_EXPIRATION_DAYS
        if settings.is_development()
        else PRODUCTION_MIN_EXPIRATION_DAYS
    )
    return settings.get_int(settings.ATTACHMENT_MIN_EXPIRATION_DAYS, default)


def check_expiration_days(days: Optional[int]) -> None:
    """2017 when ``expirationInDays`` is set and below the minimum (the detail names it)."""
    if days is None:
        return
    minimum = min_expiration_days()
    if days < minimum:
        entry = errors.EXPIRATION_TOO_SHORT
        raise entry.error(detail=entry.message.format(days=minimum))
