"""MD5 of an upload that spans requests (nothing lives in process memory between requests).

``rehashes`` (MD5 with a serialisable state, RustCrypto) lets a chunk that continues the hashed
prefix advance the MD5 state kept on the attachment record (88 bytes); whatever was not hashed
that way (chunks sent out of order or in parallel) is hashed at completion by reading the
committed blob back (``shared.storage.blocks.hash_committed``). Either way the digest covers
exactly the committed bytes.
"""

from __future__ import annotations

import base64
import hashlib
from importlib.metadata import version
from typing import Any, Optional

from rehashes import PyMd5

from shared.core.documents import Md5Advance, UploadState

# Tests switch this off to exercise the read-back path.
INCREMENTAL_MD5 = True
_MD5_PIECE = 1024 * 1024

# The serialised state is only valid for the implementation that wrote it.
IMPLEMENTATION = f"rehashes {version('rehashes')}"


def _impl() -> Optional[str]:
    return IMPLEMENTATION if INCREMENTAL_MD5 else None


def new_state() -> tuple[Optional[str], Optional[str]]:
    impl = _impl()
    if impl is None:
        return None, None
    return base64.b64encode(PyMd5().serialize()).decode("ascii"), impl


def resume(state: Optional[str], impl: Optional[str]) -> Optional[PyMd5]:
    """The stored hasher, or ``None`` when there is none or it was made by another version."""
    if state is None or impl is None or impl != _impl():
        return None
    return PyMd5.deserialize(base64.b64decode(state))


def advance(state: UploadState, start: int, end: int, body: bytes) -> Optional[Md5Advance]:
    """Extend the stored MD5 prefix with this chunk when it continues it."""
    if not start <= state.hashedTo < end:
        return None
    hasher = resume(state.md5State, state.md5Impl)
    if hasher is None:
        return None
    # rehashes holds the GIL while it hashes: 1 MiB at a time lets the staging threads run
    # between pieces instead of stalling for the whole chunk (bench: docs/benchmarks.md).
    for offset in range(state.hashedTo - start, len(body), _MD5_PIECE):
        hasher.update(body[offset:offset + _MD5_PIECE])
    return Md5Advance(state.hashedTo, end, base64.b64encode(hasher.serialize()).decode("ascii"))


def new_hasher(state: UploadState) -> tuple[Any, int]:
    """The hasher to finish an upload with and the offset it has hashed up to."""
    hasher = resume(state.md5State, state.md5Impl)
    if hasher is None:
        return hashlib.md5(usedforsecurity=False), 0
    return hasher, state.hashedTo


def hexdigest(hasher: Any) -> str:
    return (hasher.hexdigest() if hasattr(hasher, "hexdigest") else hasher.finalize()).lower()
