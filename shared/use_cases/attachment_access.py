"""What every attachment use case does first: load the attachment for its sender, or update one
that must exist (2001 otherwise)."""

from __future__ import annotations

import uuid
from typing import Callable, TypeVar

from shared.auth.access import ensure_owner
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.decisions import Decision
from shared.core.documents import AttachmentRecord
from shared.rules import attachment_lifecycle as lifecycle
from shared.storage import attachment_store
from shared.storage.optimistic import Updated

R = TypeVar("R")


def update_existing(
    attachment_id: uuid.UUID, change: Callable[[AttachmentRecord], Decision[R]]
) -> Updated[AttachmentRecord, R]:
    """``attachment_store.update``, with 404/2001 when the attachment does not exist."""
    updated = attachment_store.update(attachment_id, change)
    if updated is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    return updated


def accessible(caller: Caller, attachment_id: uuid.UUID) -> AttachmentRecord:
    """404/2001 unknown, then 401/4001 when the caller may not act for its sender. A
    single-request upload that can no longer be running is recorded as Failed first."""
    record = attachment_store.read(attachment_id)
    if record is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    ensure_owner(caller, record.sender, resource_id=record.resourceId)
    if lifecycle.is_interrupted(record):
        record = update_existing(
            attachment_id, lambda r: lifecycle.fail_upload(r, lifecycle.TEXT_UPLOAD_INTERRUPTED)
        ).document
    return record
