"""Byte ranges in request headers: ``Content-Range`` of a chunked upload, ``Range`` of a download.

Pure parsing and range arithmetic (RFC 9110 §14); what the ranges mean for an upload is
``shared.rules.attachment_lifecycle``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from shared.core import errors

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d{1,15})-(\d{1,15})|(\*))/(\d{1,15})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ChunkRange:
    """``bytes start-end/total`` (``end`` inclusive, as HTTP has it); ``start is None`` for a
    status query ``bytes */total``."""

    start: Optional[int]
    end: Optional[int]
    total: int

    @property
    def is_query(self) -> bool:
        return self.start is None

    @property
    def length(self) -> int:
        assert self.start is not None and self.end is not None
        return self.end - self.start + 1


def parse_content_range(value: str) -> ChunkRange:
    """Parse a ``Content-Range`` request header (400 when malformed or inconsistent)."""
    found = _CONTENT_RANGE.match(value)
    if found is None:
        raise errors.HttpProblem(400, "Content-Range must be 'bytes start-end/total' or 'bytes */total'.")
    first, last, star, total_text = found.groups()
    total = int(total_text)
    if star:
        return ChunkRange(None, None, total)
    start, end = int(first), int(last)
    if end < start or end >= total:
        raise errors.HttpProblem(400, "Content-Range must satisfy start <= end < total.")
    return ChunkRange(start, end, total)


def check_chunk_alignment(chunk: ChunkRange, block_size: int) -> None:
    """416 unless the chunk starts on the block grid and ends on it or at the end of the file."""
    assert chunk.start is not None and chunk.end is not None
    next_start = chunk.end + 1
    if chunk.start % block_size or (next_start != chunk.total and next_start % block_size):
        raise errors.HttpProblem(
            416,
            f"A chunk must start at a multiple of {block_size} bytes and end at one or at the end "
            "of the file.",
        )


def merge_range(ranges: Iterable[tuple[int, int]], new: tuple[int, int]) -> list[tuple[int, int]]:
    """Add ``[start, end)`` to sorted, coalesced ranges."""
    result: list[tuple[int, int]] = []
    start, end = new
    for a, b in sorted(ranges):
        if b < start or a > end:
            result.append((a, b))
        else:
            start, end = min(a, start), max(b, end)
    result.append((start, end))
    return sorted(result)


def covered(ranges: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$", re.IGNORECASE)


def parse_range(header: Optional[str], size: int) -> Optional[tuple[int, int]]:
    """A single ``Range: bytes=a-b`` / ``a-`` / ``-n`` as ``[start, end)``; ``None`` for no (or
    an unsupported, e.g. multi-part) Range; 416 when it cannot be satisfied."""
    if header is None or not header.strip():
        return None
    found = _RANGE.match(header)
    if found is None:
        return None
    first, last = found.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            raise errors.HttpProblem(416, "The range is not satisfiable.", {"Content-Range": f"bytes */{size}"})
        return max(size - length, 0), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise errors.HttpProblem(416, "The range is not satisfiable.", {"Content-Range": f"bytes */{size}"})
    return start, end
