"""``GET /correspondence/api/v1/correspondence/{correspondenceId}/details``: the overview plus
the status history."""

from __future__ import annotations

import uuid

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import as_utc
from shared.core.operations import Answer, Operation
from shared.models.responses import CorrespondenceDetails, CorrespondenceStatusEventView
from shared.use_cases.get_correspondence import load_for_sender, overview_fields

OPERATION = Operation(
    summary="Get a correspondence with its status history",
    tags=("Correspondence",),
    answers=(Answer(200, "The correspondence and its status history.", CorrespondenceDetails),),
    errors=(errors.CORRESPONDENCE_NOT_FOUND, errors.NO_ACCESS_TO_RESOURCE),
)


def get_correspondence_details(caller: Caller, correspondence_id: uuid.UUID) -> CorrespondenceDetails:
    record, manifest, _ = load_for_sender(caller, correspondence_id)
    # Upstream orders the history by time (StatusHistory = Statuses.OrderBy(StatusChanged)).
    history = sorted(record.statusHistory, key=lambda e: as_utc(e.statusChanged))
    return CorrespondenceDetails(
        **overview_fields(record, manifest),
        status_history=[
            CorrespondenceStatusEventView(status=e.status, status_text=e.statusText, status_changed=e.statusChanged)
            for e in history
        ],
    )
