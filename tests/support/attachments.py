"""Helpers for attachment tests: call the attachment functions in-process with real tokens."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Iterable, Iterator

from tests.support.functions import Response, call

RESOURCE = "ttd-corr-1"
OTHER_ORG = "310000000"
OTHER_ORG_RESOURCE = "other-corr-1"
BASE = "http://localhost/correspondence/api/v1/attachment"


def attachment_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceId": RESOURCE,
        "fileName": "report.pdf",
        "displayName": "Report",
        "sendersReference": "ref-1",
        "isEncrypted": False,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not ...}


def initialize(issuer, body: dict[str, Any] | None = None, org: str | None = None, **fields: Any) -> Response:
    headers = issuer.authorization(org=org) if org else issuer.authorization()
    return call(
        "initialize_attachment",
        method="POST",
        url=BASE,
        body=body if body is not None else attachment_body(**fields),
        headers=headers,
    )


def create(issuer, **fields: Any) -> str:
    response = initialize(issuer, **fields)
    assert response.status == 200, response.body
    attachment_id = response.json()
    assert isinstance(attachment_id, str)
    return attachment_id


def _headers(issuer, org: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = issuer.authorization(org=org) if org else issuer.authorization()
    headers.update(extra or {})
    return headers


def upload(
    issuer,
    attachment_id: str,
    data: bytes,
    *,
    org: str | None = None,
    content_type: str | None = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> Response:
    extra = {"Content-Length": str(len(data))}
    if content_type is not None:
        extra["Content-Type"] = content_type
    extra.update(headers or {})
    return call(
        "upload_attachment",
        method="POST",
        url=f"{BASE}/{attachment_id}/upload",
        raw_body=data,
        headers=_headers(issuer, org, extra),
        route_params={"attachmentId": attachment_id},
    )


def upload_chunk(issuer, attachment_id: str, data: bytes, start: int, total: int, **kwargs: Any) -> Response:
    content_range = f"bytes {start}-{start + len(data) - 1}/{total}"
    return upload(issuer, attachment_id, data, headers={"Content-Range": content_range, **kwargs.pop("headers", {})}, **kwargs)


def query_upload(issuer, attachment_id: str, total: int, **kwargs: Any) -> Response:
    return upload(issuer, attachment_id, b"", headers={"Content-Range": f"bytes */{total}"}, **kwargs)


def get(issuer, attachment_id: str, function: str = "get_attachment", suffix: str = "", org: str | None = None,
        headers: dict[str, str] | None = None) -> Response:
    return call(
        function,
        method="GET",
        url=f"{BASE}/{attachment_id}{suffix}",
        headers=_headers(issuer, org, headers),
        route_params={"attachmentId": attachment_id},
    )


def overview(issuer, attachment_id: str, **kwargs: Any) -> Response:
    return get(issuer, attachment_id, **kwargs)


def details(issuer, attachment_id: str, **kwargs: Any) -> Response:
    return get(issuer, attachment_id, function="get_attachment_details", suffix="/details", **kwargs)


def download(issuer, attachment_id: str, **kwargs: Any) -> Response:
    return get(issuer, attachment_id, function="download_attachment", suffix="/download", **kwargs)


def purge(issuer, attachment_id: str, org: str | None = None) -> Response:
    return call(
        "purge_attachment",
        method="DELETE",
        url=f"{BASE}/{attachment_id}",
        headers=_headers(issuer, org, None),
        route_params={"attachmentId": attachment_id},
    )


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


PIECE = 1 << 20


def piece(index: int, seed: int = 1, size: int = PIECE) -> bytes:
    """The ``index``-th piece of a reproducible pseudo-random file (any piece on its own)."""
    return hashlib.shake_256(f"{seed}:{index}".encode()).digest(size)


def deterministic_bytes(size: int, seed: int = 1, start: int = 0) -> Iterator[bytes]:
    """Bytes ``[start, size)`` of a reproducible file in 1 MiB pieces (``start`` on a piece
    boundary): stream a large file without holding it."""
    assert start % PIECE == 0
    index = start // PIECE
    position = start
    while position < size:
        block = piece(index, seed, min(PIECE, size - position))
        index += 1
        position += len(block)
        yield block


def pattern(size: int, seed: int = 1) -> bytes:
    return b"".join(deterministic_bytes(size, seed))


# --- over real HTTP (local host) ------------------------------------------------------------
def http_post_stream(
    base_url: str,
    path: str,
    headers: dict[str, str],
    pieces: Iterable[bytes],
    length: int,
    *,
    abort_after: int | None = None,
    timeout: float = 300,
) -> tuple[int, bytes]:
    """POST ``length`` bytes produced piece by piece (bounded client memory).

    ``abort_after``: send only that many bytes, then drop the connection (an interrupted
    upload); returns ``(0, b"")`` then.
    """
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(length)}.items():
            conn.putheader(name, value)
        conn.endheaders()
        sent = 0
        for data in pieces:
            if abort_after is not None and sent + len(data) > abort_after:
                conn.send(data[: abort_after - sent])
                conn.sock.shutdown(2)  # the connection breaks mid-body
                return 0, b""
            conn.send(data)
            sent += len(data)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_upload_chunk(base_url: str, token: str, attachment_id: str, start: int, end: int, total: int, seed: int,
                      abort_after: int | None = None) -> tuple[int, bytes]:
    """Upload bytes ``[start, end)`` of the reproducible file ``seed`` as one chunk."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes {start}-{end - 1}/{total}",
    }

    return http_post_stream(
        base_url, f"/correspondence/api/v1/attachment/{attachment_id}/upload", headers,
        deterministic_bytes(end, seed, start), end - start,
        abort_after=abort_after,
    )


def http_query_upload(base_url: str, token: str, attachment_id: str, total: int) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}", "Content-Range": f"bytes */{total}"}
    return http_post_stream(base_url, f"/correspondence/api/v1/attachment/{attachment_id}/upload", headers, [], 0)


def http_json(base_url: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    import requests

    response = requests.request(method, base_url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return response.status_code, (response.json() if response.content else None)


def process_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes (Linux)."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
    return values


def reset_peak_memory(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


# --- the correspondence code's operations on an attachment, in-process (Azurite) --------------
def unstored_request(count: int = 1, resource: str = RESOURCE, org: str = "991825827"):
    """A request's state as initialize builds it, for linking: never stored, so it is not
    committed (what its correspondences do is up to the test)."""
    from shared.core import correspondence_ids
    from shared.core.clock import utcnow
    from shared.core.documents import RequestState
    from shared.core.identifiers import sender_urn

    now = utcnow()
    return RequestState(
        requestKey=correspondence_ids.request_name(correspondence_ids.new_request_key()),
        sender=sender_urn(org),
        resourceId=resource,
        created=now,
        requestedPublishTime=now,
        sendersReference="linked-by-a-test",
        count=count,
    )


def link(attachment_id: uuid.UUID, count: int = 1):
    """Link as initialize does (1018 unless Published, 1007 when unknown), for a request of
    ``count`` correspondences; returns that request's state."""
    from shared.use_cases.attachment_links import AttachmentLinks

    state = unstored_request(count)
    AttachmentLinks().link(attachment_id, state)
    return state


def correspondence_ids(state) -> list[uuid.UUID]:
    from shared.storage import correspondence_store

    return correspondence_store.correspondence_ids_of(state)


def apply_scan_result(attachment_id: uuid.UUID, clean: bool, text: str):
    """The record after the lifecycle applied a scan result (None when unknown)."""
    from shared.rules import attachment_lifecycle
    from shared.storage import attachment_store

    updated = attachment_store.update(attachment_id, lambda r: attachment_lifecycle.apply_scan_result(r, clean, text))
    return None if updated is None else updated.document
