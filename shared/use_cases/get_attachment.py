"""``GET /correspondence/api/v1/attachment/{attachmentId}``: an attachment's overview (behaviour §6.4)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.auth.caller import Caller
from shared.core.documents import AttachmentRecord
from shared.use_cases.attachment_access import accessible


def overview_of(record: AttachmentRecord) -> dict[str, Any]:
    current = record.current()
    return {
        "attachmentId": str(record.id),
        "resourceId": record.resourceId,
        "sender": record.sender,
        "fileName": record.fileName,
        "displayName": record.displayName,
        "isEncrypted": False,  # quirk Q11: upstream never maps it
        "checksum": record.checksum,
        "sendersReference": record.sendersReference,
        "expirationInDays": record.expirationInDays,
        "status": current.status.name,
        "statusText": current.statusText,
        "statusChanged": current.statusChanged.isoformat(),
        "correspondenceIds": [str(cid) for cid in record.correspondenceIds],
        "dataType": record.dataType,
    }


def get_attachment(caller: Caller, attachment_id: uuid.UUID) -> dict[str, Any]:
    return overview_of(accessible(caller, attachment_id))
