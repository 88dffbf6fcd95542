"""Initialize when a write lands but its answer is lost (found by the fault-injection test).

Stopping storage in mid-request can apply a write and drop its response. For the commit point
(the manifest) that used to answer 503 for a correspondence that then got published, and a
create retried by the SDK into its own landed write answered 500. Now: the request finds out
(200 when the manifest is there), or says that the outcome is unknown (503 whose detail says
so; a retry with the same key answers 409 naming the stored correspondence).
"""

from __future__ import annotations

import time
import uuid
from typing import Callable, Optional

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient

from tests.support.faults import use_app_settings, use_transport
from tests.support.functions import call, valid_request

# rule(request, attempt number of this path) -> None (send), "lost" (send, drop the answer),
# "down" (do not send: connection refused)
Rule = Callable[[object, int], Optional[str]]


class LossyTransport(RequestsTransport):
    rule: Optional[Rule] = None
    attempts: dict[str, int] = {}

    def send(self, request, **kwargs):
        rule = LossyTransport.rule
        if rule is not None:
            key = f"{request.method} {request.url.split('?')[0]}"
            LossyTransport.attempts[key] = LossyTransport.attempts.get(key, 0) + 1
            verdict = rule(request, LossyTransport.attempts[key])
            if verdict == "down":
                raise ServiceRequestError("injected: storage down")
            if verdict == "lost":
                super().send(request, **kwargs)
                raise ServiceResponseError("injected: the answer was lost")
        return super().send(request, **kwargs)


@pytest.fixture
def lossy_app(fresh_storage_clients, private_azurite, token_issuer, monkeypatch: pytest.MonkeyPatch):
    use_app_settings(monkeypatch, token_issuer, private_azurite.connection_string)
    use_transport(monkeypatch, LossyTransport)
    LossyTransport.rule, LossyTransport.attempts = None, {}
    yield private_azurite
    LossyTransport.rule = None


def _initialize(token_issuer, key: str):
    return call(
        "initialize_correspondence", method="POST", body=valid_request(idempotentKey=key), headers=token_issuer.authorization()
    )


def _manifests_with(connection: str, key: str) -> list[str]:
    import json

    container = BlobServiceClient.from_connection_string(connection).get_container_client("correspondences")
    found = []
    for blob in container.list_blobs(name_starts_with="requests/"):
        if json.loads(container.download_blob(blob.name).readall()).get("idempotentKey") == key:
            found.append(blob.name)
    return found


def _is_write(request, folder: str) -> bool:
    return request.method == "PUT" and f"/correspondences/{folder}/" in request.url


def test_lost_answers_of_creates_retried_into_themselves_are_success(lossy_app, token_issuer) -> None:
    assert _initialize(token_issuer, str(uuid.uuid4())).status == 200  # containers and queues exist
    for folder in ("idempotency", "items", "requests"):
        key = str(uuid.uuid4())
        LossyTransport.attempts = {}
        LossyTransport.rule = lambda request, n, f=folder: "lost" if _is_write(request, f) and n == 1 else None
        response = _initialize(token_issuer, key)
        LossyTransport.rule = None
        assert response.status == 200, (folder, response.body)
        assert len(_manifests_with(lossy_app.connection_string, key)) == 1
        assert _initialize(token_issuer, key).status == 409


def test_commit_that_landed_while_storage_failed_answers_200(lossy_app, token_issuer) -> None:
    assert _initialize(token_issuer, str(uuid.uuid4())).status == 200
    key = str(uuid.uuid4())
    down_until = [0.0]

    def rule(request, n):
        if _is_write(request, "requests") and n == 1:
            down_until[0] = time.monotonic() + 1.0  # the write lands, then a one-second outage
            return "lost"
        return "down" if time.monotonic() < down_until[0] else None

    LossyTransport.rule = rule
    response = _initialize(token_issuer, key)
    LossyTransport.rule = None
    assert response.status == 200, response.body
    correspondence_id = response.json()["correspondences"][0]["correspondenceId"]
    again = _initialize(token_issuer, key)
    assert again.status == 409 and again.json()["existingCorrespondenceId"] == correspondence_id


def test_commit_outcome_unknown_says_so_and_the_key_resolves_it(lossy_app, token_issuer) -> None:
    assert _initialize(token_issuer, str(uuid.uuid4())).status == 200
    key = str(uuid.uuid4())
    down = [False]

    def rule(request, n):
        if _is_write(request, "requests") and n == 1:
            down[0] = True  # the write lands, then storage stays down
            return "lost"
        return "down" if down[0] else None

    LossyTransport.rule = rule
    started = time.monotonic()
    response = _initialize(token_issuer, key)
    elapsed = time.monotonic() - started
    LossyTransport.rule = None
    assert response.status == 503 and response.headers["Retry-After"]
    assert "may have been stored" in response.json()["detail"]
    assert elapsed < 5, elapsed  # still a quick answer
    manifests = _manifests_with(lossy_app.connection_string, key)
    assert len(manifests) == 1  # it did land
    again = _initialize(token_issuer, key)
    assert again.status == 409, again.body
    assert len(_manifests_with(lossy_app.connection_string, key)) == 1


def test_manifest_write_refused_for_sure_is_an_ordinary_503(lossy_app, token_issuer) -> None:
    """Storage never saw the manifest: the read-back finds nothing, compensation runs."""
    assert _initialize(token_issuer, str(uuid.uuid4())).status == 200
    key = str(uuid.uuid4())
    LossyTransport.rule = lambda request, n: "down" if _is_write(request, "requests") else None
    response = _initialize(token_issuer, key)
    LossyTransport.rule = None
    assert response.status == 503
    assert "may have been stored" not in response.json()["detail"]
    assert _manifests_with(lossy_app.connection_string, key) == []
    assert _initialize(token_issuer, key).status == 200  # claim released by the compensation
