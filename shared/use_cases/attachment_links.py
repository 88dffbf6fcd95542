"""Linking a request's attachments to its correspondences, with the attachment lifecycle's
rules: ``correspondence_store.AttachmentLinks`` for initialize (link, compensate) and the
publisher (abort), and the release of one purged correspondence."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.core import errors
from shared.core.decisions import Decision
from shared.core.documents import AttachmentLink, AttachmentRecord, RequestState
from shared.rules import attachment_lifecycle
from shared.storage import attachment_store
from shared.storage.request_states import Keys


class AttachmentLinks:
    """``require_published`` does not apply to files of this very request (multipart), which
    may still await their scan; ``linked_at`` is when the links start to count down
    ``expirationInDays``."""

    def __init__(
        self, uploaded_by_this_request: frozenset[uuid.UUID] = frozenset(), linked_at: datetime | None = None
    ) -> None:
        self.uploaded = uploaded_by_this_request
        self.linked_at = linked_at

    def link(self, attachment_id: uuid.UUID, state: RequestState) -> None:
        keys = Keys.of(state)
        new = AttachmentLink(requestKey=state.requestKey, partition=keys.partition, row=keys.row, count=state.count)
        require_published = attachment_id not in self.uploaded

        def link(record: AttachmentRecord) -> Decision[None]:
            return attachment_lifecycle.link(record, new, require_published=require_published, linked_at=self.linked_at)

        if attachment_store.update(attachment_id, link) is None:
            raise errors.EXISTING_ATTACHMENT_NOT_FOUND.error()

    def unlink(self, attachment_id: uuid.UUID, request_key: str) -> None:
        attachment_store.update(attachment_id, lambda record: attachment_lifecycle.unlink(record, request_key))


def release(attachment_id: uuid.UUID, request_key: str, index: int) -> None:
    """A purged correspondence lets go of the attachment (the others of its request keep it)."""
    attachment_store.update(attachment_id, lambda record: attachment_lifecycle.release(record, request_key, index))
