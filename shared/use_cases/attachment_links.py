"""Linking a request's attachments to its correspondences, with the attachment lifecycle's rules:
``correspondence_store.AttachmentLinks`` for initialize (link, compensate), the publisher
(abort) and purge (release)."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.core import errors
from shared.core.decisions import Decision
from shared.core.documents import AttachmentRecord
from shared.rules import attachment_lifecycle
from shared.storage import attachment_store


class AttachmentLinks:
    """``correspondence_store.AttachmentLinks`` with the lifecycle's rules (1018 when an
    attachment is no longer published; files of this very request may await their scan)."""

    def __init__(
        self, uploaded_by_this_request: frozenset[uuid.UUID] = frozenset(), linked_at: datetime | None = None
    ) -> None:
        self.uploaded = uploaded_by_this_request
        self.linked_at = linked_at  # when the links start to count down expirationInDays

    def link(self, attachment_id: uuid.UUID, correspondence_ids: list[uuid.UUID]) -> None:
        require_published = attachment_id not in self.uploaded
        def link(record: AttachmentRecord) -> Decision[None]:
            return attachment_lifecycle.link(
                record, correspondence_ids, require_published=require_published, linked_at=self.linked_at
            )

        updated = attachment_store.update(attachment_id, link)
        if updated is None:
            raise errors.EXISTING_ATTACHMENT_NOT_FOUND.error()

    def unlink(self, attachment_id: uuid.UUID, correspondence_ids: list[uuid.UUID]) -> None:
        attachment_store.update(attachment_id, lambda r: attachment_lifecycle.unlink(r, correspondence_ids))
