"""The query of ``POST /correspondence/api/v1/attachment/{id}/upload/url``."""

from __future__ import annotations

from pydantic import Field

from shared.models.binding import ApiModel


class UploadUrlQuery(ApiModel):
    # The file's length: reserved on the organisation's quota of unfinished uploads (as a
    # chunked upload's declared total is), and what complete expects to find.
    size: int = Field(ge=1, le=50_000_000_000, description="The file's length in bytes (1 to 50 GB).",
                      examples=[1048576])
