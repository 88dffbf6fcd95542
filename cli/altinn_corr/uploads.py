"""Attachment upload: initialize with the file's MD5, then one request or resumable chunks.

The chunked protocol is the service's (docs/attachments.md): ``Content-Range: bytes
START-END/TOTAL`` chunks that start on the block grid (``blockSize``, 8 MiB) and end on it or at
the end of the file; ``Content-Range: bytes */TOTAL`` with an empty body asks which ranges are
stored. The attachment id of an unfinished upload is kept in a small state file (per API, file
path, size, modification time and resource), so running the same command again resumes: it
asks the service what it has and sends only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from altinn_corr.api import ApiClient, Reader
from altinn_corr.errors import ApiError, CliError, Interrupted, NetworkError, UsageProblem, WaitFailed, WaitTimeout

MIB = 1024 * 1024
BLOCK_SIZE = 8 * MIB
DEFAULT_CHUNK_SIZE = 32 * MIB
# The Functions host refuses bodies over 100 MB (10^8 bytes): 11 blocks is the most that fits.
MAX_CHUNK_SIZE = 88 * MIB
HASH_READ = MIB
# Attempts per request on a network failure or a 5xx/429 (waits in seconds between them; a
# Retry-After from the service is honoured when it is longer).
RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0, 10.0)
# Staged blocks live 7 days in Blob Storage; older state is useless.
STATE_MAX_AGE = 7 * 24 * 3600
POLL_INTERVAL = 0.5
POLL_MAX_INTERVAL = 5.0
UPLOAD_IN_PROGRESS = 2005
FINAL_ATTACHMENT_STATUSES = {"Published", "Failed", "Purged", "Expired"}


class Progress(Protocol):
    """What the upload reports to (a rich progress bar in the CLI; a no-op in code)."""

    def start(self, description: str, total: int, completed: int = 0) -> None: ...

    def advance(self, amount: int) -> None: ...

    def set(self, completed: int) -> None: ...

    def done(self) -> None: ...


class NoProgress:
    def start(self, description: str, total: int, completed: int = 0) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def set(self, completed: int) -> None:
        pass

    def done(self) -> None:
        pass


@dataclass
class UploadSpec:
    path: Path
    resource: str
    file_name: str | None = None
    display_name: str | None = None
    senders_reference: str | None = None
    expiration_days: int | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    force_chunked: bool = False
    resume_id: str | None = None  # resume this attachment (else the state file's, if any)
    new: bool = False  # ignore the state file: always a new attachment

    def initialize_body(self, checksum: str) -> dict[str, Any]:
        file_name = self.file_name or self.path.name
        body: dict[str, Any] = {
            "resourceId": self.resource,
            "fileName": file_name,
            "sendersReference": self.senders_reference or file_name,
            "checksum": checksum,
            "isEncrypted": False,
        }
        if self.display_name:
            body["displayName"] = self.display_name
        if self.expiration_days is not None:
            body["expirationInDays"] = self.expiration_days
        return body


@dataclass
class UploadOutcome:
    attachment_id: str
    overview: dict[str, Any]
    resumed: bool
    sent_bytes: int  # bytes sent by this run (a resumed upload sends only what was missing)


# The API's allowed extensions (shared/rules/attachment_files.py, upstream's list). Repeated
# here because the API offers no way to ask for them (no endpoint or OpenAPI enum lists them),
# and the CLI must refuse a file before hashing it, which for a large file takes a while; the
# API still decides (2013). tests/cli compares this list with the API's.
ALLOWED_EXTENSIONS = (
    ".doc", ".xls", ".docx", ".xlsx", ".ppt", ".pps", ".zip", ".pdf", ".html", ".txt", ".xml",
    ".jpg", ".jpeg", ".gif", ".bmp", ".png", ".json", ".csv", ".dcm", ".dicom",
)


def check_file_type(file_name: str) -> None:
    """UsageProblem naming the extension and the allowed list, unless the API allows it."""
    extension = file_name[file_name.rfind("."):].lower() if "." in file_name else ""
    if extension not in ALLOWED_EXTENSIONS:
        shown = f"'{extension}'" if extension else "no extension"
        raise UsageProblem(
            f"{file_name}: file type {shown} is not allowed by the service; allowed: "
            + " ".join(ALLOWED_EXTENSIONS)
            + " (use --file-name to give it a name with an allowed extension)"
        )


def check_chunk_size(chunk_size: int) -> int:
    if chunk_size < BLOCK_SIZE or chunk_size % BLOCK_SIZE or chunk_size > MAX_CHUNK_SIZE:
        raise UsageProblem(
            f"the chunk size must be a multiple of 8 MiB between 8 and {MAX_CHUNK_SIZE // MIB} MiB"
        )
    return chunk_size


# --- resume state ----------------------------------------------------------------------------


def default_state_dir() -> Path:
    configured = os.environ.get("ALTINN_CORR_STATE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("altinn-corr", appauthor=False))


class ResumeState:
    """``uploads.json``: unfinished uploads by file identity -> attachment id and checksum."""

    FILE = "uploads.json"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_state_dir()
        self.path = self.directory / self.FILE

    @staticmethod
    def key(base_url: str, spec: UploadSpec, size: int, mtime_ns: int) -> str:
        identity = [base_url, str(spec.path.resolve()), size, mtime_ns, spec.resource, spec.file_name or spec.path.name]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._load().get(key)
        if isinstance(entry, dict) and time.time() - float(entry.get("created", 0)) < STATE_MAX_AGE:
            return entry
        return None

    def put(self, key: str, attachment_id: str, checksum: str) -> None:
        entries = self._fresh()
        entries[key] = {"attachmentId": attachment_id, "checksum": checksum, "created": time.time()}
        self._write(entries)

    def delete(self, key: str) -> None:
        entries = self._fresh()
        entries.pop(key, None)
        self._write(entries)

    def _fresh(self) -> dict[str, Any]:
        now = time.time()
        return {
            k: v for k, v in self._load().items()
            if isinstance(v, dict) and now - float(v.get("created", 0)) < STATE_MAX_AGE
        }

    def _write(self, entries: dict[str, Any]) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".uploads.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(entries, out)
                os.replace(temp, self.path)
            except BaseException:
                os.unlink(temp)
                raise
        except OSError:
            pass  # without state an interrupted upload starts over next time; not fatal


# --- ranges (pure) ---------------------------------------------------------------------------


def missing_ranges(stored: list[tuple[int, int]], total: int) -> list[tuple[int, int]]:
    """Half-open gaps in ``[0, total)`` not covered by ``stored`` (half-open ranges)."""
    gaps = []
    position = 0
    for start, end in sorted(stored):
        if start > position:
            gaps.append((position, start))
        position = max(position, end)
    if position < total:
        gaps.append((position, total))
    return gaps


def chunks(gaps: list[tuple[int, int]], chunk_size: int, block_size: int) -> Iterator[tuple[int, int]]:
    """Half-open chunks covering the gaps, each starting on the block grid and at most
    ``chunk_size`` long (a gap that starts off the grid is widened back to the grid: re-sending
    stored bytes is harmless)."""
    for start, end in gaps:
        position = start - start % block_size
        while position < end:
            stop = min(position + chunk_size, end)
            if stop != end and stop % block_size:
                stop -= stop % block_size
            yield position, stop
            position = stop


def _ranges_of(progress: dict[str, Any]) -> list[tuple[int, int]]:
    return [(int(r["start"]), int(r["end"]) + 1) for r in progress.get("ranges") or []]


# --- the upload --------------------------------------------------------------------------------


def file_md5(path: Path, progress: Progress) -> str:
    size = path.stat().st_size
    digest = hashlib.md5()
    progress.start(f"Hashing {path.name}", size)
    with path.open("rb") as handle:
        while data := handle.read(HASH_READ):
            digest.update(data)
            progress.advance(len(data))
    progress.done()
    return digest.hexdigest()


def with_retries(action: Callable[[], Any], on_retry: Callable[[], None] = lambda: None) -> Any:
    """Run ``action``; on a network failure or a 5xx/429 wait and try again."""
    for attempt in range(len(RETRY_DELAYS) + 1):
        try:
            return action()
        except (NetworkError, ApiError) as exc:
            retryable = isinstance(exc, NetworkError) or exc.status >= 500 or exc.status == 429
            if not retryable or attempt == len(RETRY_DELAYS):
                raise
            delay = RETRY_DELAYS[attempt]
            if isinstance(exc, ApiError) and exc.retry_after:
                delay = max(delay, min(exc.retry_after, 60.0))
            on_retry()
            time.sleep(delay)
    raise AssertionError("unreachable")


def _ignore(amount: int) -> None:
    pass


class Uploader:
    acknowledged = 0  # bytes the service has confirmed it stored (what a re-run resumes from)

    def __init__(self, client: ApiClient, state: ResumeState | None, progress: Progress | None = None) -> None:
        self.client = client
        self.state = state
        self.progress = progress or NoProgress()

    def upload(self, spec: UploadSpec) -> UploadOutcome:
        path = spec.path
        stat = path.stat()
        size = stat.st_size
        if size == 0:
            raise UsageProblem(f"{path} is empty; the service accepts files of 1 byte or more")
        check_chunk_size(spec.chunk_size)
        check_file_type(spec.file_name or path.name)  # before hashing: a refused file costs nothing
        key = ResumeState.key(self.client.base_url, spec, size, stat.st_mtime_ns)
        attachment_id = spec.resume_id
        if attachment_id is None and not spec.new and self.state is not None:
            entry = self.state.get(key)
            attachment_id = entry["attachmentId"] if entry else None

        stored: list[tuple[int, int]] | None = None
        block_size = BLOCK_SIZE
        resumed = False
        if attachment_id is not None:
            found = self._resume_point(attachment_id, size, explicit=spec.resume_id is not None)
            if isinstance(found, UploadOutcome):
                self._forget(key)
                return found
            if found is not None:
                stored, block_size = found
                resumed = True
        if stored is None:
            try:
                checksum = file_md5(path, self.progress)
            except KeyboardInterrupt:
                self.progress.done()
                raise Interrupted("Interrupted while hashing; nothing was sent. Re-run the same command.") from None
            attachment_id = with_retries(lambda: self.client.initialize_attachment(spec.initialize_body(checksum)))
            if self.state is not None:
                self.state.put(key, attachment_id, checksum)
            stored = []

        chunked = spec.force_chunked or size > spec.chunk_size or bool(stored)
        self.acknowledged = sum(end - start for start, end in stored)
        try:
            if chunked:
                overview, sent = self._chunked(attachment_id, path, size, stored, spec.chunk_size, block_size)
            else:
                overview, sent = self._single(attachment_id, path, size)
        except CliError as exc:
            if chunked and not isinstance(exc, UsageProblem):
                exc.hint = f"the upload of attachment {attachment_id} can be resumed: run the same command again"
            raise
        except KeyboardInterrupt:
            raise Interrupted(
                f"Interrupted. Re-run the same command to resume the upload of attachment {attachment_id} "
                f"from byte {self.acknowledged}."
            ) from None
        finally:
            self.progress.done()
        self._forget(key)
        return UploadOutcome(attachment_id, overview, resumed, sent)

    def _forget(self, key: str) -> None:
        if self.state is not None:
            self.state.delete(key)

    def _resume_point(
        self, attachment_id: str, size: int, *, explicit: bool
    ) -> UploadOutcome | tuple[list[tuple[int, int]], int] | None:
        """Stored ranges and block size to resume from; an outcome when the upload is already
        finished; None when the attachment cannot be resumed (start a new one)."""
        try:
            response = with_retries(lambda: self.client.upload_progress(attachment_id, size))
        except ApiError as exc:
            if exc.error_code == UPLOAD_IN_PROGRESS:
                # Completed (or failed, or a single-request upload): the overview tells.
                overview = self.client.attachment(attachment_id)
                status = overview.get("status")
                if status in ("Published", "UploadProcessing"):
                    return UploadOutcome(attachment_id, overview, True, 0)
                if explicit:
                    raise CliError(f"attachment {attachment_id} is {status}; it cannot be uploaded again") from None
                return None
            if explicit or exc.status in (401, 403) or exc.status >= 500:
                raise
            return None  # gone (404), another size (416), ...: start afresh
        progress = response.json()
        if response.status_code == 200:  # the service finished a completed upload just now
            return UploadOutcome(attachment_id, progress, True, 0)
        if progress.get("complete"):
            return UploadOutcome(attachment_id, self.wait_for_upload(attachment_id, final_only=False), True, 0)
        return _ranges_of(progress), int(progress.get("blockSize") or BLOCK_SIZE)

    def _single(self, attachment_id: str, path: Path, size: int) -> tuple[dict[str, Any], int]:
        self.progress.start(f"Uploading {path.name}", size)
        with path.open("rb") as handle:

            def send() -> Any:
                # The bar counts bytes the service acknowledged (its answer), not bytes read
                # into a socket buffer, so rate and ETA are the service's, not the disk's.
                return self.client.upload(attachment_id, Reader(handle, 0, size, _ignore), size)

            response = with_retries(send)
            self.acknowledged = size
            self.progress.set(size)
        self.progress.done()
        return response.json(), size

    def _chunked(
        self,
        attachment_id: str,
        path: Path,
        size: int,
        stored: list[tuple[int, int]],
        chunk_size: int,
        block_size: int,
    ) -> tuple[dict[str, Any], int]:
        chunk_size = max(block_size, chunk_size - chunk_size % block_size)
        confirmed = sum(end - start for start, end in stored)
        sent = 0
        self.progress.start(f"Uploading {path.name}", size, completed=confirmed)
        with path.open("rb") as handle:
            for _ in range(3):  # a pass normally finishes it; more only if ranges went missing
                for start, end in list(chunks(missing_ranges(stored, size), chunk_size, block_size)):
                    content_range = f"bytes {start}-{end - 1}/{size}"

                    def send(start: int = start, end: int = end, content_range: str = content_range) -> Any:
                        reader = Reader(handle, start, end - start, _ignore)  # acknowledged bytes only
                        return self.client.upload(attachment_id, reader, end - start, content_range)

                    response = with_retries(send, on_retry=lambda: self.progress.set(confirmed))
                    sent += end - start
                    body = response.json()
                    if response.status_code == 200:
                        self.progress.set(size)
                        self.progress.done()
                        return body, sent
                    stored = _ranges_of(body)
                    confirmed = int(body.get("received", confirmed))
                    self.acknowledged = confirmed
                    self.progress.set(confirmed)
                    if body.get("complete"):
                        self.progress.done()
                        return self.wait_for_upload(attachment_id, final_only=False), sent
                found = self._resume_point(attachment_id, size, explicit=True)
                if isinstance(found, UploadOutcome):
                    self.progress.done()
                    return found.overview, sent
                if found is None:
                    break
                stored, block_size = found
        self.progress.done()
        raise CliError(f"the upload of attachment {attachment_id} did not complete")

    def wait_for_upload(self, attachment_id: str, *, final_only: bool = True, timeout: float = 600.0) -> dict[str, Any]:
        """Poll the attachment until it leaves ``UploadProcessing`` (``final_only``: until
        ``Published``/``Failed``/...). Raises WaitFailed for ``Failed``."""
        deadline = time.monotonic() + timeout
        interval = POLL_INTERVAL
        while True:
            overview = with_retries(lambda: self.client.attachment(attachment_id))
            status = overview.get("status")
            if status == "Failed":
                raise WaitFailed(f"attachment {attachment_id} failed: {overview.get('statusText') or 'no reason given'}")
            if status in FINAL_ATTACHMENT_STATUSES or (not final_only and status not in ("UploadProcessing", "Initialized")):
                return overview
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"attachment {attachment_id} is still {status} after {timeout:.0f} s")
            time.sleep(interval)
            interval = min(interval * 1.5, POLL_MAX_INTERVAL)
