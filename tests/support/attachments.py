"""Helpers for attachment tests: call the attachment functions in-process with real tokens."""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

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


def deterministic_bytes(size: int, seed: int = 1, piece: int = 1 << 20) -> Iterator[bytes]:
    """Reproducible pseudo-random bytes in pieces (no file, bounded memory)."""
    counter = 0
    produced = 0
    while produced < size:
        block = hashlib.shake_256(f"{seed}:{counter}".encode()).digest(min(piece, size - produced))
        counter += 1
        produced += len(block)
        yield block


def pattern(size: int, seed: int = 1) -> bytes:
    return b"".join(deterministic_bytes(size, seed))
