"""A storage failure at every step of initialize: the client gets 503, nothing is published,
nothing stays stuck once the publisher has handled the leftovers, and a retry with the same
idempotentKey creates exactly one correspondence."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from shared.storage import correspondence_store as store
from shared.use_cases import publish_correspondence as publishing
from shared.storage import clients as storage_clients
from tests.support.faults import use_app_settings, use_transport
from tests.support.functions import call, valid_request


class FlakyTransport(RequestsTransport):
    """Fails every storage call after the first ``healthy`` ones: an outage that starts mid-request."""

    healthy: int | None = None
    calls = 0

    def send(self, request, **kwargs):
        FlakyTransport.calls += 1
        if FlakyTransport.healthy is not None and FlakyTransport.calls > FlakyTransport.healthy:
            raise ServiceRequestError("injected outage")
        return super().send(request, **kwargs)


@pytest.fixture
def flaky_app(fresh_storage_clients, private_azurite, token_issuer, monkeypatch: pytest.MonkeyPatch):
    use_app_settings(monkeypatch, token_issuer, private_azurite.connection_string)
    use_transport(monkeypatch, FlakyTransport)
    # Shorter than production so the test need not wait a minute for a stale claim.
    from datetime import timedelta

    monkeypatch.setattr(store, "CLAIM_GRACE", timedelta(seconds=2))
    # Messages visible at once, so the test can drain the queue without waiting.
    monkeypatch.setattr(store, "FIRST_DELIVERY_DELAY", timedelta(0))
    # Re-scheduled messages (not yet committed) must not come straight back in the drain loop.
    monkeypatch.setattr(publishing, "UNCOMMITTED_RETRY", timedelta(seconds=30))
    FlakyTransport.healthy = None
    yield private_azurite
    FlakyTransport.healthy = None


def _blob_names(connection: str, prefix: str) -> set[str]:
    container = BlobServiceClient.from_connection_string(connection).get_container_client("correspondences")
    return {b.name for b in container.list_blobs(name_starts_with=prefix)}


def _drain_and_publish(connection: str, after: float) -> list[str]:
    """Deliver every queued message as the trigger would, as if ``after`` seconds had passed."""
    from datetime import timedelta

    from shared.core.clock import utcnow

    queue = QueueClient.from_connection_string(connection, storage_clients.PUBLISH_QUEUE)
    outcomes = []
    while True:
        messages = list(queue.receive_messages(messages_per_page=32, visibility_timeout=60))
        if not messages:
            return outcomes
        for message in messages:
            outcomes.append(publishing.publish_correspondence(base64.b64decode(message.content), now=utcnow() + timedelta(seconds=after)))
            queue.delete_message(message)


def _initialize(token_issuer, body):
    return call("initialize_correspondence", method="POST", body=body, headers=token_issuer.authorization())


def test_outage_at_each_storage_step_is_all_or_nothing(flaky_app, token_issuer) -> None:
    connection = flaky_app.connection_string
    assert _initialize(token_issuer, valid_request()).status == 200  # creates containers and queues
    _drain_and_publish(connection, after=0)

    # With a key the request makes 5 calls: read claim, create claim, send message, write the
    # record, write the manifest. Let the outage start before each of them in turn.
    for healthy in range(5):
        key = str(uuid.uuid4())
        items_before = _blob_names(connection, "items/")
        requests_before = _blob_names(connection, "requests/")
        FlakyTransport.calls = 0
        FlakyTransport.healthy = healthy
        started = time.monotonic()
        failed = _initialize(token_issuer, valid_request(idempotentKey=key))
        elapsed = time.monotonic() - started
        FlakyTransport.healthy = None
        assert failed.status == 503, (healthy, failed.body)
        assert failed.headers["Retry-After"]
        assert elapsed < 5, elapsed
        assert _blob_names(connection, "requests/") == requests_before  # nothing committed

        # The publisher finishes what the outage left: no publication, no leftovers.
        outcomes = _drain_and_publish(connection, after=store.ABORT_AFTER.total_seconds() + 1)
        assert "done" not in outcomes, outcomes
        assert _blob_names(connection, "items/") == items_before, healthy

        # The client retries with the same key (after Retry-After): one correspondence, then 409.
        time.sleep(2)
        retried = _initialize(token_issuer, valid_request(idempotentKey=key))
        assert retried.status == 200, (healthy, retried.body)
        again = _initialize(token_issuer, valid_request(idempotentKey=key))
        assert again.status == 409 and again.json()["errorCode"] == 1034
        assert len(_blob_names(connection, "requests/") - requests_before) == 1
        assert _drain_and_publish(connection, after=0) == ["done"]


def test_single_transient_failure_is_compensated_at_once(flaky_app, token_issuer) -> None:
    """When only one call fails (and the retry policy gives up), compensation succeeds at once."""
    connection = flaky_app.connection_string
    assert _initialize(token_issuer, valid_request()).status == 200
    _drain_and_publish(connection, after=0)
    items_before = _blob_names(connection, "items/")

    class OneFailure(FlakyTransport):
        pass

    # Fail the manifest write (call 4 without a key: claim-less request = message, record,
    # manifest) for all three attempts of the fail-fast retry policy, then heal.
    FlakyTransport.calls = 0
    original_send = FlakyTransport.send

    def send(self, request, **kwargs):
        FlakyTransport.calls += 1
        if 3 <= FlakyTransport.calls <= 5:
            raise ServiceRequestError("injected")
        return RequestsTransport.send(self, request, **kwargs)

    FlakyTransport.send = send
    try:
        failed = _initialize(token_issuer, valid_request())
    finally:
        FlakyTransport.send = original_send
    assert failed.status == 503
    assert _blob_names(connection, "items/") == items_before  # record deleted by compensation
    assert _drain_and_publish(connection, after=0) == []  # message deleted by compensation
