"""The publish queue: one small message per accepted request (a claim check, never content).

Messages are base64 text, what the Functions queue trigger decodes (host.json
``messageEncoding: base64``), and are scheduled with the visibility delay up to the requested
publish time. Storage Queues refuse a delay beyond 7 days; longer waits are re-scheduled by the
publisher in steps. A message never expires (``time_to_live=-1``): one that waits for its
publish time must not vanish.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from shared.core.documents import RequestState
from shared.storage import clients
from shared.storage.request_states import Keys

MAX_VISIBILITY = timedelta(days=7)


class PublishMessage(BaseModel):
    requestKey: str
    partition: str  # where the request's state entity is (written at the commit)
    row: str
    created: datetime
    publishAt: datetime
    # What an uncommitted request may have left, for the publisher to clean up (abort).
    attachmentIds: list[uuid.UUID] = Field(default_factory=list)
    idempotentKey: uuid.UUID | None = None

    @property
    def keys(self) -> Keys:
        return Keys(self.partition, self.row)

    @classmethod
    def for_request(cls, state: RequestState) -> "PublishMessage":
        keys = Keys.of(state)
        return cls(
            requestKey=state.requestKey,
            partition=keys.partition,
            row=keys.row,
            created=state.created,
            publishAt=state.requestedPublishTime,
            attachmentIds=state.attachmentIds,
            idempotentKey=state.idempotentKey,
        )


def visibility_delay(publish_at: datetime, now: datetime) -> timedelta:
    return min(max(publish_at - now, timedelta(0)), MAX_VISIBILITY)


def queue(profile: clients.Profile = "request"):
    clients.ensure_storage_once()
    return clients.queue_client(clients.PUBLISH_QUEUE, profile)


def send(message: PublishMessage, delay: timedelta, profile: clients.Profile = "request"):
    """Returns the sent message (id and pop receipt, to delete it when the request fails)."""
    return queue(profile).send_message(
        message.model_dump_json().encode("utf-8"),
        visibility_timeout=int(delay.total_seconds()),
        time_to_live=-1,
    )


def delete(sent, profile: clients.Profile = "request") -> None:
    queue(profile).delete_message(sent.id, sent.pop_receipt)


def decode(body: bytes) -> PublishMessage:
    return PublishMessage.model_validate(json.loads(body))
