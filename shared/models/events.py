"""Event Grid events the malware-scan webhook receives (Event Grid schema; the CloudEvents
``type`` is accepted as well). Documented here; the webhook reads them leniently (behaviour §6.6)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict


class EventGridEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventType: Optional[str] = None
    data: dict[str, Any]


VALIDATION_EXAMPLE = [
    {
        "id": "1",
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "subject": "",
        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
        "eventTime": "2024-01-01T00:00:00Z",
        "dataVersion": "1",
    }
]
