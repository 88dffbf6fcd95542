"""Attachment business rules shared by initialize correspondence (multipart and JSON) and the
attachment endpoints (spec §6.2, §3.5 steps 21-22).

* ``check_file_name(name)``: 2010 blank -> 2011 too long -> 2013 extension not allowed ->
  2012 invalid characters -> 2021 reserved Windows device name, first failure wins.
* ``check_expiration_days(days)``: 2017 below the minimum. The minimum is the app setting
  ``ATTACHMENT_MIN_EXPIRATION_DAYS`` when set, else 1 in Development, else 14 (upstream's
  production value).
"""

from __future__ import annotations

import re
from typing import Optional

from shared import errors, settings

MAX_FILE_NAME_LENGTH = 255
ALLOWED_EXTENSIONS = frozenset(
    {
        ".doc", ".xls", ".docx", ".xlsx", ".ppt", ".pps", ".zip", ".pdf", ".html", ".txt",
        ".xml", ".jpg", ".jpeg", ".gif", ".bmp", ".png", ".json", ".csv", ".dcm", ".dicom",
    }
)
# Windows-invalid characters and control characters U+0000-U+001F (this also covers every
# character that is invalid in a file name on the platforms we run on: "/" and NUL).
_INVALID_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED_NAME = re.compile(r"(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\.|$)", re.IGNORECASE)

PRODUCTION_MIN_EXPIRATION_DAYS = 14
DEVELOPMENT_MIN_EXPIRATION_DAYS = 1


def _utf16_length(value: str) -> int:
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def check_file_name(name: Optional[str]) -> None:
    """Raise the first failing file-name rule (2010, 2011, 2013, 2012, 2021)."""
    if name is None or not name.strip():
        raise errors.FILENAME_MISSING.error()
    if _utf16_length(name) > MAX_FILE_NAME_LENGTH:
        raise errors.FILENAME_TOO_LONG.error()
    dot = name.rfind(".")
    if dot < 0 or name[dot:].lower() not in ALLOWED_EXTENSIONS:
        raise errors.FILETYPE_NOT_ALLOWED.error()
    if _INVALID_CHARACTERS.search(name):
        raise errors.FILENAME_INVALID.error()
    if _RESERVED_NAME.match(name):
        raise errors.FILENAME_RESERVED.error()


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
