"""The Correspondence API over HTTP: one ``requests.Session``, problem details as exceptions.

The bearer token comes from a ``TokenSource`` and is fetched on the first request only, so
``--help`` and usage errors never need one. Nothing here logs or prints the token.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Protocol

import requests

from altinn_corr import __version__
from altinn_corr.errors import ApiError, NetworkError

API = "/correspondence/api/v1"
CONNECT_TIMEOUT = 10.0
# The request that stores the last chunk also commits the file and checks its MD5.
READ_TIMEOUT = 300.0


class TokenSource(Protocol):
    def get(self) -> str: ...

    def invalidate(self) -> None: ...


class ApiClient:
    def __init__(self, base_url: str, tokens: TokenSource, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"altinn-corr/{__version__}"

    # --- plumbing --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200,),
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        all_headers = {
            "Accept": "application/json, application/problem+json",
            "Authorization": f"Bearer {self.tokens.get()}",
            **(headers or {}),
        }
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=json_body,
                data=data,
                headers=all_headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
        except requests.RequestException as exc:
            # The exception text may hold the URL, never headers; name the type only.
            raise NetworkError(
                f"cannot reach the API at {self.base_url}, or the connection broke ({type(exc).__name__})",
                hint="check --base-url and that the service is running",
            ) from None
        if response.status_code in ok:
            return response
        if response.status_code == 401:
            self.tokens.invalidate()  # a cached token the API no longer accepts: get a new one next time
        raise api_error(response)

    # --- attachments -----------------------------------------------------------------------

    def initialize_attachment(self, body: dict[str, Any]) -> str:
        return str(self.request("POST", f"{API}/attachment", json_body=body).json())

    def upload(self, attachment_id: str, data: Any, length: int, content_range: str | None = None) -> requests.Response:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        if content_range:
            headers["Content-Range"] = content_range
        return self.request(
            "POST", f"{API}/attachment/{attachment_id}/upload", ok=(200, 202), data=data, headers=headers
        )

    def upload_progress(self, attachment_id: str, total: int) -> requests.Response:
        """``Content-Range: bytes */TOTAL``: which ranges are stored (202)."""
        return self.request(
            "POST",
            f"{API}/attachment/{attachment_id}/upload",
            ok=(200, 202),
            data=b"",
            headers={"Content-Range": f"bytes */{total}", "Content-Type": "application/octet-stream"},
        )

    def attachment(self, attachment_id: str, details: bool = False) -> dict[str, Any]:
        suffix = "/details" if details else ""
        return self.request("GET", f"{API}/attachment/{attachment_id}{suffix}").json()

    # --- correspondences -------------------------------------------------------------------

    def initialize_correspondence(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{API}/correspondence", json_body=body).json()

    def correspondence(self, correspondence_id: str, details: bool = False) -> dict[str, Any]:
        suffix = "/details" if details else ""
        return self.request("GET", f"{API}/correspondence/{correspondence_id}{suffix}").json()


def api_error(response: requests.Response) -> ApiError:
    problem: dict[str, Any] | None = None
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            problem = parsed
    except (ValueError, json.JSONDecodeError):
        problem = None
    retry_after = None
    header = response.headers.get("Retry-After")
    if header and header.strip().isdigit():
        retry_after = float(header.strip())
    return ApiError(response.status_code, response.reason or "", problem, retry_after=retry_after)


class Reader:
    """A file-like view of ``length`` bytes of a file from ``offset``, reporting progress as
    requests streams it (so a 32 MiB chunk moves the bar smoothly, not in one jump)."""

    def __init__(self, handle: Any, offset: int, length: int, on_read: Callable[[int], None]) -> None:
        self.handle = handle
        self.offset = offset
        self.remaining = length
        self.length = length
        self.on_read = on_read
        handle.seek(offset)

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.handle.read(size)
        self.remaining -= len(data)
        if data:
            self.on_read(len(data))
        return data
