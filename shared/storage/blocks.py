"""The bytes of an attachment: one block blob per attachment id in container ``attachments``.

Blocks sit on a fixed grid of ``BLOCK_SIZE`` bytes: block ``i`` covers ``[i*B, (i+1)*B)`` (the
last one shorter) and its id is derived from its offset, so any way of cutting the file into
requests yields the same block list. Blocks are staged a few at a time, each with its own
Content-MD5 (transport integrity, checked by the service); a committed blob is read back in
ranges with a few reads in flight when its MD5 must be computed from storage.

Only leaf tasks go to the pool: a task that waited for other pool tasks could deadlock a
saturated pool.
"""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobBlock, ContentSettings

from shared.storage import clients

BLOCK_SIZE = 8 * 1024 * 1024  # the block grid of new uploads (stored per upload)
UPLOAD_CONCURRENCY = 4  # blocks in flight per request
READBACK_CONCURRENCY = 4  # ranged reads in flight while hashing a committed blob
READBACK_RANGE = 4 * 1024 * 1024  # bytes per ranged read

_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="blocks")


def blob_client(attachment_id: uuid.UUID):
    """The file's block blob, named by the attachment id (container ``attachments``)."""
    clients.ensure_storage_once()
    return clients.blob_service().get_blob_client(clients.ATTACHMENTS_CONTAINER, str(attachment_id))


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """Run a leaf task in the block pool (e.g. an MD5 beside the staging)."""
    return _pool.submit(fn, *args)


def block_id(offset: int) -> str:
    """The id of the block at ``offset`` (same length for every block of a blob; the SDK
    base64-encodes it)."""
    return f"{offset:016x}"


def bounded(fn: Callable[[Any], Any], items: Iterable[Any], limit: int) -> list[Any]:
    """Run ``fn`` over ``items`` in the pool, at most ``limit`` at a time, in order of results."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    futures: list[Future] = []
    results: list[Any] = []
    try:
        for item in items:
            if len(futures) - len(results) >= limit:
                results.append(futures[len(results)].result())
            futures.append(_pool.submit(fn, item))
        while len(results) < len(futures):
            results.append(futures[len(results)].result())
    except BaseException:
        for future in futures:
            future.cancel()
        for future in futures:
            if not future.cancelled():
                try:
                    future.result()
                except BaseException:  # noqa: BLE001 - the first error is the one raised
                    pass
        raise
    return results


def stage_blocks(blob, body: memoryview, start: int, block_size: int) -> None:
    """Stage ``body`` (file bytes from ``start``, which is on the grid) as grid blocks."""
    end = start + len(body)

    def stage(offset: int) -> None:
        part = body[offset - start: min(offset + block_size, end) - start]
        blob.stage_block(
            block_id(offset), part, length=len(part), transactional_content_md5=hashlib.md5(part, usedforsecurity=False).digest()
        )

    bounded(stage, range(start, end, block_size), UPLOAD_CONCURRENCY)


def commit_blocks(blob, total: int, block_size: int) -> None:
    blocks = [BlobBlock(block_id(offset)) for offset in range(0, total, block_size)]
    blob.commit_block_list(blocks, content_settings=ContentSettings(content_type="application/octet-stream"))


def hash_committed(blob, hasher, start: int, total: int, range_size: int, concurrency: int = READBACK_CONCURRENCY) -> None:
    """Feed ``[start, total)`` of the committed blob to ``hasher`` in order, with a few ranged
    reads in flight (memory: concurrency x range_size)."""
    offsets = list(range(start, total, range_size))

    def read(offset: int) -> bytes:
        length = min(range_size, total - offset)
        return blob.download_blob(offset=offset, length=length).readall()

    futures: list[Future] = []
    index = 0
    try:
        for offset in offsets[:concurrency]:
            futures.append(_pool.submit(read, offset))
        while index < len(offsets):
            data = futures[index].result()
            futures[index] = None  # type: ignore[call-overload] - drop the bytes once hashed
            nxt = index + concurrency
            if nxt < len(offsets):
                futures.append(_pool.submit(read, offsets[nxt]))
            hasher.update(data)
            index += 1
    finally:
        for future in futures:
            if future is not None:
                future.cancel()


def delete_blob(attachment_id: uuid.UUID) -> None:
    try:
        blob_client(attachment_id).delete_blob()
    except ResourceNotFoundError:
        pass


@dataclass(frozen=True)
class CommittedBlob:
    """What storage says about a file's committed blob: its length, ETag and index tags."""

    size: int
    etag: str
    tags: dict[str, str]


def committed_blob(attachment_id: uuid.UUID, profile: clients.Profile = "request") -> CommittedBlob | None:
    """The committed blob's length, ETag and tags; ``None`` when there is none (never uploaded,
    deleted, or only staged blocks: a block blob exists once its block list is committed)."""
    clients.ensure_storage_once()
    blob = clients.blob_service(profile).get_blob_client(clients.ATTACHMENTS_CONTAINER, str(attachment_id))
    try:
        properties = blob.get_blob_properties()
        tags = blob.get_blob_tags() if properties.tag_count else {}
    except ResourceNotFoundError:
        return None
    return CommittedBlob(size=properties.size, etag=str(properties.etag).strip('"'), tags=dict(tags or {}))


def delete_blob_background(attachment_id: uuid.UUID) -> None:
    """``delete_blob`` with the background retry profile (the retention job). Deleting a blob
    that has only staged blocks discards them."""
    clients.ensure_storage_once()
    try:
        clients.blob_service("background").get_blob_client(clients.ATTACHMENTS_CONTAINER, str(attachment_id)).delete_blob()
    except ResourceNotFoundError:
        pass
