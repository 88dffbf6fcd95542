"""Read-modify-write of one stored document with ETag (If-Match) retries.

Storage has no locks; two writers (the publisher and a purge, two chunk uploads) each read
the document with its ETag, change it and write it back only if nobody wrote in between. The
loser reads again and decides again, so ``change`` must decide from the copy it is given.

``change`` returns a ``shared.core.decisions.Decision``: whether to write the document, and the
outcome to hand back to the caller (what it decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from azure.core.exceptions import ResourceModifiedError

from shared.core.decisions import Decision

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Updated(Generic[T, R]):
    document: T  # as written, or as read when nothing was written
    outcome: R | None


def update(
    read: Callable[[], tuple[T, str] | None],
    write: Callable[[T, str], object],
    change: Callable[[T], Decision[R]],
    *,
    attempts: int,
    what: str,
) -> Updated[T, R] | None:
    """``change`` mutates the document and decides (it may raise to abort); ``None`` when the
    document does not exist."""
    for _ in range(attempts):
        found = read()
        if found is None:
            return None
        document, etag = found
        decision = change(document)
        if not decision.write:
            return Updated(document, decision.outcome)
        try:
            write(document, etag)
            return Updated(document, decision.outcome)
        except ResourceModifiedError:
            continue
    raise RuntimeError(f"{what} kept changing under us")
