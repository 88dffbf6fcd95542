"""Publishing end to end: the local host's queue trigger publishes at the requested time, and
malware-scan results posted to the webhook publish or fail attachments and correspondences."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from tests.support.app import own_app_host
from tests.support.functions import valid_request
from tests.support.localhost import LocalHost

from tests.support.waiting import wait_for

API = "/correspondence/api/v1"
WEBHOOK = f"{API}/webhooks/malwarescanresults"



class Client:
    def __init__(self, host: LocalHost, token_issuer) -> None:
        self.url = host.url
        self.headers = token_issuer.authorization()

    def initialize(self, body: dict) -> requests.Response:
        return requests.post(f"{self.url}{API}/correspondence", json=body, headers=self.headers, timeout=15)

    def overview(self, correspondence_id: str) -> dict:
        return requests.get(f"{self.url}{API}/correspondence/{correspondence_id}", headers=self.headers, timeout=10).json()

    def details(self, correspondence_id: str) -> dict:
        return requests.get(f"{self.url}{API}/correspondence/{correspondence_id}/details", headers=self.headers, timeout=10).json()

    def status(self, correspondence_id: str) -> str:
        return self.overview(correspondence_id)["status"]

    def upload_attachment(self, data: bytes) -> str:
        init = requests.post(
            f"{self.url}{API}/attachment",
            json={"resourceId": "ttd-corr-1", "fileName": "report.pdf", "sendersReference": "ref-1"},
            headers=self.headers,
            timeout=10,
        )
        assert init.status_code == 200, init.text
        attachment_id = init.json()
        upload = requests.post(
            f"{self.url}{API}/attachment/{attachment_id}/upload",
            data=data,
            headers={**self.headers, "Content-Type": "application/octet-stream"},
            timeout=30,
        )
        assert upload.status_code == 200, upload.text
        return attachment_id

    def attachment_status(self, attachment_id: str) -> str:
        return requests.get(f"{self.url}{API}/attachment/{attachment_id}", headers=self.headers, timeout=10).json()["status"]


def test_publish_time_now_is_published_within_five_seconds(local_app, token_issuer) -> None:
    client = Client(local_app, token_issuer)
    response = client.initialize(valid_request(recipients=["07827199405", "26818099001"]))
    assert response.status_code == 200, response.text
    ids = [c["correspondenceId"] for c in response.json()["correspondences"]]
    started = time.monotonic()
    for correspondence_id in ids:
        wait_for(lambda cid=correspondence_id: client.status(cid) == "Published", 5)
    assert time.monotonic() - started < 5
    details = client.details(ids[0])
    assert [e["status"] for e in details["statusHistory"]] == ["Initialized", "ReadyForPublish", "Published"]
    assert details["published"]


def test_publish_time_in_an_hour_stays_ready_for_publish(local_app, token_issuer) -> None:
    client = Client(local_app, token_issuer)
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    response = client.initialize(valid_request(correspondence__requestedPublishTime=later))
    correspondence_id = response.json()["correspondences"][0]["correspondenceId"]
    time.sleep(4)  # the host has polled its queue several times meanwhile
    assert client.status(correspondence_id) == "ReadyForPublish"


# --- production scan mode: results arrive through the webhook ---------------------------------


@pytest.fixture(scope="module")
def scan_host(token_issuer, tmp_path_factory):
    with own_app_host(
        token_issuer,
        tmp_path_factory,
        "scan",
        MALWARE_SCAN_MODE="defender",
        # Retry failing messages at once, so the poison test need not wait 5 x 10 s.
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout="00:00:00",
    ) as host:
        yield host


def _scan_event(attachment_id: str, result: str = "No threats found", error: str | None = None) -> list[dict]:
    details = {"malwareNamesFound": [] if result == "No threats found" else ["Eicar"], "sha256": "00"}
    if error:
        details["errorMessage"] = error
    return [
        {
            "id": str(uuid.uuid4()),
            "eventType": "Microsoft.Security.MalwareScanningResult",
            "subject": "storageAccounts/x/containers/attachments/blobs/" + attachment_id,
            "eventTime": datetime.now(timezone.utc).isoformat(),
            "dataVersion": "1.0",
            "data": {
                "correlationId": str(uuid.uuid4()),
                "blobUri": f"https://account.blob.core.windows.net/attachments/{attachment_id}",
                "eTag": "0x1",
                "scanFinishedTimeUtc": datetime.now(timezone.utc).isoformat(),
                "scanResultType": result,
                "scanResultDetails": details,
            },
        }
    ]


def test_subscription_validation_handshake(scan_host) -> None:
    event = [{"id": "1", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "data": {"validationCode": "abc-123"}}]
    response = requests.post(f"{scan_host.url}{WEBHOOK}", json=event, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"validationResponse": "abc-123"}


def test_webhook_rejects_unknown_attachments_other_events_and_junk(scan_host) -> None:
    unknown = requests.post(f"{scan_host.url}{WEBHOOK}", json=_scan_event(str(uuid.uuid4())), timeout=10)
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == 2001
    other = requests.post(f"{scan_host.url}{WEBHOOK}", json=[{"eventType": "Microsoft.Storage.BlobCreated", "data": {}}], timeout=10)
    assert other.status_code == 400
    junk = requests.post(f"{scan_host.url}{WEBHOOK}", data=b"{not json", timeout=10)
    assert junk.status_code == 400 and junk.headers["Content-Type"].startswith("application/problem+json")


def test_clean_result_publishes_and_malicious_result_fails(scan_host, token_issuer) -> None:
    client = Client(scan_host, token_issuer)
    attachment_id = client.upload_attachment(b"%PDF-1.4 clean file")
    assert client.attachment_status(attachment_id) == "UploadProcessing"  # waits for its scan
    refused = client.initialize(valid_request(existingAttachments=[attachment_id]))
    assert refused.status_code == 400 and refused.json()["errorCode"] == 1018

    assert requests.post(f"{scan_host.url}{WEBHOOK}", json=_scan_event(attachment_id), timeout=10).status_code == 200
    assert client.attachment_status(attachment_id) == "Published"
    published = client.initialize(valid_request(existingAttachments=[attachment_id]))
    assert published.status_code == 200, published.text
    assert published.json()["attachmentIds"] == [attachment_id]
    first = published.json()["correspondences"][0]["correspondenceId"]
    wait_for(lambda: client.status(first) == "Published", 5)

    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    waiting = client.initialize(valid_request(existingAttachments=[attachment_id], correspondence__requestedPublishTime=later))
    second = waiting.json()["correspondences"][0]["correspondenceId"]
    malicious = _scan_event(attachment_id, result="Malicious", error="Eicar test file")
    assert requests.post(f"{scan_host.url}{WEBHOOK}", json=malicious, timeout=10).status_code == 200
    assert client.attachment_status(attachment_id) == "Failed"
    failed = client.overview(second)
    assert failed["status"] == "Failed"
    assert attachment_id in failed["statusText"]


def _raw_queue(host, name: str) -> QueueClient:
    return QueueClient.from_connection_string(host.azurite.connection_string, name)


def test_duplicate_delivery_of_every_message_leaves_the_same_state(scan_host, token_issuer) -> None:
    client = Client(scan_host, token_issuer)
    response = client.initialize(valid_request(recipients=["07827199405", "26818099001"]))
    ids = [c["correspondenceId"] for c in response.json()["correspondences"]]
    for correspondence_id in ids:
        wait_for(lambda cid=correspondence_id: client.status(cid) == "Published", 5)
    before = [client.details(cid)["statusHistory"] for cid in ids]
    # Deliver the request's publish message again, as an at-least-once queue may.
    blobs = BlobServiceClient.from_connection_string(scan_host.azurite.connection_string).get_container_client("correspondences")
    record = json.loads(blobs.download_blob(f"items/{ids[0]}.json").readall())
    message = {"requestId": record["requestId"], "count": 2, "created": record["created"], "publishAt": record["requestedPublishTime"]}
    queue = _raw_queue(scan_host, "correspondence-publish")
    for _ in range(2):
        queue.send_message(base64.b64encode(json.dumps(message).encode()).decode())
    wait_for(lambda: not list(queue.peek_messages()), 10)
    time.sleep(0.5)
    assert [client.details(cid)["statusHistory"] for cid in ids] == before


def test_message_whose_correspondence_is_corrupt_ends_in_the_poison_queue(scan_host) -> None:
    connection = scan_host.azurite.connection_string
    request_id = uuid.uuid4()
    correspondence_id = uuid.uuid5(request_id, "0")
    now = datetime.now(timezone.utc).isoformat()
    blobs = BlobServiceClient.from_connection_string(connection).get_container_client("correspondences")
    blobs.upload_blob(f"items/{correspondence_id}.json", b"{corrupt", overwrite=True)
    manifest = {
        "requestId": str(request_id), "sender": "urn:altinn:organization:identifier-no:991825827", "resourceId": "ttd-corr-1",
        "created": now, "requestedPublishTime": now, "correspondenceIds": [str(correspondence_id)],
        "recipients": ["urn:altinn:person:identifier-no:07827199405"], "correspondence": {},
    }
    blobs.upload_blob(f"requests/{request_id}.json", json.dumps(manifest).encode(), overwrite=True)
    message = {"requestId": str(request_id), "count": 1, "created": now, "publishAt": now}
    _raw_queue(scan_host, "correspondence-publish").send_message(base64.b64encode(json.dumps(message).encode()).decode())
    poison = _raw_queue(scan_host, "correspondence-publish-poison")

    def poisoned() -> bool:
        try:
            return any(str(request_id) in base64.b64decode(m.content).decode() for m in poison.peek_messages(max_messages=32))
        except Exception:  # noqa: BLE001 - the poison queue is created on first use
            return False

    wait_for(poisoned, 30)
    assert str(correspondence_id) in scan_host.log.read_text()  # the error line names it
