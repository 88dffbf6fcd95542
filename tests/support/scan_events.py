"""Malware-scan results as Defender for Storage produces them: the verdict as the blob's index
tag, and the Event Grid event that announces it (``topic`` the storage account, ``blobUri``
and ``subject`` naming the blob in ``attachments``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from azure.storage.blob import BlobServiceClient

from shared.use_cases.malware_scan_result import LOCAL_STORAGE_ACCOUNT_ID, SCAN_RESULT_TAG

CLEAN = "No threats found"
MALICIOUS = "Malicious"
WEBHOOK_PATH = "/correspondence/api/v1/webhooks/malwarescanresults"


def blob_service(connection: str | None = None) -> BlobServiceClient:
    """The test Azurite's blob service (``connection``), or the app's own (in-process tests)."""
    if connection is not None:
        return BlobServiceClient.from_connection_string(connection)
    from shared.storage import clients

    return clients.blob_service()


def set_verdict(attachment_id: str | uuid.UUID, verdict: str, connection: str | None = None) -> str:
    """Write Defender's verdict tag on the attachment's blob (as Defender does); returns the
    blob's ETag (the scanned version)."""
    blob = blob_service(connection).get_blob_client("attachments", str(attachment_id))
    blob.set_blob_tags({SCAN_RESULT_TAG: verdict, "Malware Scanning scan time UTC": datetime.now(timezone.utc).isoformat()})
    return str(blob.get_blob_properties().etag).strip('"')


def scan_event(
    attachment_id: str | uuid.UUID,
    result: str = CLEAN,
    *,
    connection: str | None = None,
    blob_uri: str | None = None,
    topic: str | None = LOCAL_STORAGE_ACCOUNT_ID,
    subject: str | None = None,
    etag: str | None = None,
) -> dict[str, Any]:
    """One ``Microsoft.Security.MalwareScanningResult`` event about the attachment's blob."""
    service = blob_service(connection)
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "eventType": "Microsoft.Security.MalwareScanningResult",
        "subject": subject if subject is not None
        else f"storageAccounts/{service.account_name}/containers/attachments/blobs/{attachment_id}",
        "eventTime": datetime.now(timezone.utc).isoformat(),
        "dataVersion": "1.0",
        "data": {
            "correlationId": str(uuid.uuid4()),
            "blobUri": blob_uri if blob_uri is not None else f"{service.url.rstrip('/')}/attachments/{attachment_id}",
            "scanFinishedTimeUtc": datetime.now(timezone.utc).isoformat(),
            "scanResultType": result,
            "scanResultDetails": {"malwareNamesFound": [] if result == CLEAN else ["Eicar"], "sha256": "00"},
        },
    }
    if topic is not None:
        event["topic"] = topic
    if etag is not None:
        event["data"]["eTag"] = etag
    return event
