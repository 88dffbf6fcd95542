"""The sweeper re-queues a request whose publish message was lost; it leaves the rest alone."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from azure.storage.queue import QueueClient

from shared.use_cases import publish_correspondence as publishing
from shared.storage import clients as storage_clients
from shared.use_cases import sweep_correspondences as sweeper
from shared.storage import correspondence_store as store
from shared.core.clock import utcnow
from tests.support.faults import use_app_settings
from tests.support.functions import call, valid_request


@pytest.fixture
def private_app(fresh_storage_clients, private_azurite, token_issuer, monkeypatch: pytest.MonkeyPatch):
    use_app_settings(monkeypatch, token_issuer, private_azurite.connection_string)
    return private_azurite


def _drain(connection: str) -> list[bytes]:
    queue = QueueClient.from_connection_string(connection, storage_clients.PUBLISH_QUEUE)
    bodies = []
    while True:
        messages = list(queue.receive_messages(messages_per_page=32, visibility_timeout=60))
        if not messages:
            return bodies
        for message in messages:
            bodies.append(base64.b64decode(message.content))
            queue.delete_message(message)


def test_lost_publish_message_is_requeued_and_published(private_app, token_issuer, monkeypatch) -> None:
    monkeypatch.setattr(store, "FIRST_DELIVERY_DELAY", timedelta(0))
    connection = private_app.connection_string
    headers = token_issuer.authorization()
    lost = call("initialize_correspondence", method="POST", body=valid_request(), headers=headers).json()
    later = (utcnow() + timedelta(hours=2)).isoformat()
    future = call(
        "initialize_correspondence", method="POST", body=valid_request(correspondence__requestedPublishTime=later), headers=headers
    ).json()
    _drain(connection)  # both messages are lost

    assert sweeper.sweep_correspondences() == 0  # nothing is overdue yet
    assert sweeper.sweep_correspondences(now=utcnow() + timedelta(minutes=11)) == 1  # only the overdue one
    [body] = _drain(connection)
    assert publishing.publish_correspondence(body) == "done"
    lost_id = uuid.UUID(lost["correspondences"][0]["correspondenceId"])
    assert store.read_record(lost_id)[0].current().status == "Published"
    future_id = uuid.UUID(future["correspondences"][0]["correspondenceId"])
    assert store.read_record(future_id)[0].current().status == "ReadyForPublish"
    assert sweeper.sweep_correspondences(now=utcnow() + timedelta(minutes=11)) == 0  # published: nothing to do
