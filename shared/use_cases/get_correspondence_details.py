"""``GET /correspondence/api/v1/correspondence/{correspondenceId}/details``: the overview plus
the status history."""

from __future__ import annotations

import uuid
from typing import Any

from shared.auth.caller import Caller
from shared.core.clock import as_utc
from shared.core.documents import CorrespondenceRecord, RequestManifest
from shared.use_cases.get_correspondence import iso, load_for_sender, overview


def details(record: CorrespondenceRecord, manifest: RequestManifest) -> dict[str, Any]:
    body = overview(record, manifest)
    # Upstream orders the history by time (StatusHistory = Statuses.OrderBy(StatusChanged)).
    history = sorted(record.statusHistory, key=lambda e: as_utc(e.statusChanged))
    body["statusHistory"] = [
        {"status": e.status.name, "statusText": e.statusText, "statusChanged": iso(e.statusChanged)}
        for e in history
    ]
    return body


def get_correspondence_details(caller: Caller, correspondence_id: uuid.UUID) -> dict[str, Any]:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    return details(record, manifest)
