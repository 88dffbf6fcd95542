"""Response models: what the API answers, field for field (behaviour §4, §6.4, ...).

Built in Python by field name, serialized with the camelCase aliases. The OpenAPI document is
generated from these (``tools/openapi.py``), so a field that is not here is not answered.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from shared.models.binding import ResponseModel
from shared.models.fields import CorrespondenceStatusField, Guid


class InitializedCorrespondence(ResponseModel):
    correspondence_id: Guid = Field(alias="correspondenceId")
    status: CorrespondenceStatusField = Field(alias="status")
    recipient: str = Field(alias="recipient")
    # Always null in the current upstream implementation (quirk Q9).
    notifications: Optional[list[dict[str, Any]]] = Field(default=None, alias="notifications")


class InitializeCorrespondencesResponse(ResponseModel):
    correspondences: list[InitializedCorrespondence] = Field(alias="correspondences")
    attachment_ids: list[Guid] = Field(default_factory=list, alias="attachmentIds")
