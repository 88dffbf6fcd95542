"""Initialize correspondence against real Azurite: stored, queued, idempotent, all or nothing."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import os

import pytest
from azure.storage.queue import QueueClient

from shared.storage import correspondence_store as store
from shared.use_cases import publish_correspondence as publishing
from shared.storage import clients as storage_clients
from tests.support import requests
from tests.support.functions import call, valid_request


def initialize(token_issuer, body, **token_args):
    return call(
        "initialize_correspondence",
        method="POST",
        body=body,
        headers=token_issuer.authorization(**token_args),
    )


def get_overview(token_issuer, correspondence_id, **token_args):
    return call(
        "get_correspondence",
        route_params={"correspondenceId": str(correspondence_id)},
        headers=token_issuer.authorization(**token_args),
    )


def test_initialized_request_round_trips_through_get(app_env, token_issuer) -> None:
    body = valid_request(recipients=["0192:991825827", "07827199405"])
    response = initialize(token_issuer, body)
    assert response.status == 200, response.body
    result = response.json()
    assert [c["recipient"] for c in result["correspondences"]] == [
        "urn:altinn:organization:identifier-no:991825827",
        "urn:altinn:person:identifier-no:07827199405",
    ]
    assert all(c["status"] == "ReadyForPublish" and c["notifications"] is None for c in result["correspondences"])
    assert result["attachmentIds"] == []
    for item in result["correspondences"]:
        overview = get_overview(token_issuer, item["correspondenceId"])
        assert overview.status == 200
        view = overview.json()
        assert view["correspondenceId"] == item["correspondenceId"]
        assert view["recipient"] == item["recipient"]
        assert view["sender"] == "urn:altinn:organization:identifier-no:991825827"
        assert view["resourceId"] == "ttd-corr-1"
        assert view["sendersReference"] == "1"
        assert view["status"] == "ReadyForPublish"
        assert view["content"]["messageTitle"] == "test"
        assert view["content"]["messageBody"] == body["correspondence"]["content"]["messageBody"]
        assert view["content"]["attachments"] == []
        assert view["propertyList"] == body["correspondence"]["propertyList"]
        assert view["created"] and view["requestedPublishTime"] and view["dueDateTime"] is None


def test_unknown_and_foreign_correspondences(app_env, token_issuer) -> None:
    missing = get_overview(token_issuer, uuid.uuid4())
    assert missing.status == 404 and missing.json()["errorCode"] == 1001
    created = initialize(token_issuer, valid_request()).json()["correspondences"][0]["correspondenceId"]
    foreign = get_overview(token_issuer, created, org="310000000")
    assert foreign.status == 401 and foreign.json()["errorCode"] == 4001


def _receive_for(request_key: str, timeout: float = 6.0) -> bytes:
    """Receive as the Functions host does: the raw message text, base64-decoded."""
    queue = QueueClient.from_connection_string(os.environ["CorrespondenceStorage"], storage_clients.PUBLISH_QUEUE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in queue.receive_messages(messages_per_page=32, visibility_timeout=30):
            body = base64.b64decode(message.content, validate=True)
            if json.loads(body)["requestKey"] == request_key:
                return body
        time.sleep(0.2)
    raise AssertionError("publish message not found")


def test_one_message_per_request_in_queue_trigger_format(app_env, token_issuer) -> None:
    recipients = ["07827199405", "26818099001", "08900499559"]
    result = initialize(token_issuer, valid_request(recipients=recipients)).json()
    found = requests.visible(result["correspondences"][0]["correspondenceId"])
    message = requests.decode(_receive_for(found.state.requestKey))
    assert message.keys == found.keys
    assert store.correspondence_ids_of(found.state) == [uuid.UUID(c["correspondenceId"]) for c in result["correspondences"]]


def test_publish_time_sets_the_visibility_delay(app_env, token_issuer) -> None:
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    result = initialize(token_issuer, valid_request(correspondence__requestedPublishTime=later)).json()
    found = requests.visible(result["correspondences"][0]["correspondenceId"])
    with pytest.raises(AssertionError):
        _receive_for(found.state.requestKey, timeout=3.0)  # invisible until its publish time


def test_fifty_concurrent_identical_requests_give_exactly_one_200(app_env, token_issuer) -> None:
    key = str(uuid.uuid4())
    body = valid_request(idempotentKey=key)
    initialize(token_issuer, valid_request())  # warm the process: containers, registry, keys
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: initialize(token_issuer, body), range(50)))
    statuses = sorted(r.status for r in responses)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 49, statuses
    winner = next(r for r in responses if r.status == 200).json()["correspondences"][0]["correspondenceId"]
    for response in responses:
        if response.status == 409:
            problem = response.json()
            assert problem["errorCode"] == 1034
            assert problem["existingCorrespondenceId"] == winner
    again = initialize(token_issuer, body)
    assert again.status == 409 and again.json()["existingCorrespondenceId"] == winner


def test_failed_validation_does_not_consume_the_key(app_env, token_issuer) -> None:
    key = str(uuid.uuid4())
    bad = initialize(token_issuer, valid_request(idempotentKey=key, correspondence__content__language="xx"))
    assert bad.status == 400 and bad.json()["errorCode"] == 1023
    good = initialize(token_issuer, valid_request(idempotentKey=key))
    assert good.status == 200


def test_publisher_publishes_due_requests_and_ignores_duplicates(app_env, token_issuer) -> None:
    result = initialize(token_issuer, valid_request(recipients=["07827199405", "26818099001"])).json()
    ids = [uuid.UUID(c["correspondenceId"]) for c in result["correspondences"]]
    raw = requests.message_for(ids[0])
    assert publishing.publish_correspondence(raw) == "done"
    histories = [requests.statuses(i) for i in ids]
    assert histories == [["Initialized", "ReadyForPublish", "Published"]] * 2
    assert publishing.publish_correspondence(raw) == "done"  # a duplicate delivery changes nothing
    assert [requests.statuses(i) for i in ids] == histories
    assert get_overview(token_issuer, ids[0]).json()["status"] == "Published"


def test_more_than_100_existing_attachments_are_refused_without_lookups(app_env, token_issuer, monkeypatch) -> None:
    from shared.storage import attachment_store

    lookups = []
    monkeypatch.setattr(attachment_store, "read", lambda i: lookups.append(i))
    ids = [str(uuid.uuid4()) for _ in range(101)]
    response = initialize(token_issuer, valid_request(existingAttachments=ids))
    assert response.status == 400 and response.json()["errorCode"] == 1038
    assert lookups == []


def test_another_organisations_resource_is_401_4001_and_stores_nothing(app_env, token_issuer) -> None:
    from tests.support.functions import OTHER_ORG_RESOURCE

    before = requests.stored_request_keys()
    body = valid_request()
    body["correspondence"]["resourceId"] = OTHER_ORG_RESOURCE
    response = initialize(token_issuer, body)
    assert response.status == 401 and response.json()["errorCode"] == 4001
    # Not upstream's "You must use an Altinn token...": the token is valid, the owner is not us.
    assert response.json()["detail"].startswith("The organisation in the token does not own")
    assert requests.stored_request_keys() == before
