"""``GET /correspondence/api/v1/attachment/{attachmentId}/details``: the overview plus the status
history (behaviour §6.5)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.auth.caller import Caller
from shared.core.documents import AttachmentRecord
from shared.use_cases.attachment_access import accessible
from shared.use_cases.get_attachment import overview_of


def details_of(record: AttachmentRecord) -> dict[str, Any]:
    body = overview_of(record)
    body["displayName"] = record.displayName if record.displayName is not None else record.fileName
    body["checksum"] = record.checksum if record.checksum is not None else ""
    body["statusHistory"] = [
        {"status": e.status.name, "statusText": e.statusText, "statusChanged": e.statusChanged.isoformat()}
        for e in record.statusHistory
    ]
    return body


def get_attachment_details(caller: Caller, attachment_id: uuid.UUID) -> dict[str, Any]:
    return details_of(accessible(caller, attachment_id))
