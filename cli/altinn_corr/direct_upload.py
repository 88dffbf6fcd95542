"""``altinn-corr upload --direct``: the valet-key upload (docs/attachments.md, "Direct upload to
storage"): ask the API for an upload URL, upload the file to storage with azure-storage-blob's
parallel block upload, then ask the API to complete (verify the MD5, publish).

Kept apart from ``uploads`` (the chunked protocol): only the upload command calls it. A server
without these endpoints answers 404 without an ``errorCode`` (no such route); ``offered`` then
says False and the caller falls back to the upload endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobClient

from altinn_corr.api import API, ApiClient
from altinn_corr.errors import ApiError, NetworkError

MIB = 1024 * 1024
# Above this, `upload` goes direct by default when the server offers it.
DIRECT_ABOVE = 256 * MIB
# The SDK's parallel block upload: as many blocks in flight as the API stages per request.
MAX_CONCURRENCY = 4
BLOCK_SIZE = 8 * MIB


class NotOffered(Exception):
    """The server has no upload/url endpoint (an older deployment)."""


def upload_url(client: ApiClient, attachment_id: str, size: int) -> str:
    try:
        response = client.request("POST", f"{API}/attachment/{attachment_id}/upload/url?size={size}")
    except ApiError as exc:
        if exc.status in (404, 405) and exc.error_code is None:
            raise NotOffered() from None
        raise
    return str(response.json()["uploadUrl"])


def send_file(url: str, path: Path, size: int, progress: Any) -> None:
    """Upload the file to the URL in parallel blocks, reporting to ``progress``."""
    progress.start(f"Uploading {path.name} (direct)", size)
    blob = BlobClient.from_blob_url(url, max_single_put_size=BLOCK_SIZE, max_block_size=BLOCK_SIZE)
    try:
        with path.open("rb") as handle:
            blob.upload_blob(handle, length=size, overwrite=True, max_concurrency=MAX_CONCURRENCY,
                             progress_hook=lambda current, total: progress.set(current))
    except AzureError as exc:
        # The SDK's text may hold the URL with its signature: name the type only.
        raise NetworkError(f"the upload to storage failed ({type(exc).__name__})",
                           hint="run the same command with --direct --resume ATTACHMENT_ID to send it again") from None
    finally:
        progress.done()


def complete(client: ApiClient, attachment_id: str) -> dict[str, Any]:
    return client.request("POST", f"{API}/attachment/{attachment_id}/upload/complete").json()


def upload(client: ApiClient, attachment_id: str, path: Path, progress: Any) -> dict[str, Any]:
    """URL, upload, complete; raises NotOffered before anything is sent when the server has no
    direct uploads. Sending again (``--resume``) asks a new URL and sends the whole file."""
    size = path.stat().st_size
    url = upload_url(client, attachment_id, size)
    send_file(url, path, size, progress)
    return complete(client, attachment_id)
