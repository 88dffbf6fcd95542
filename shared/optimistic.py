"""Read-modify-write of one stored document with ETag (If-Match) retries.

Storage has no locks; two writers (the publisher and a purge, two chunk uploads) each read
the document with its ETag, change it and write it back only if nobody wrote in between. The
loser reads again and decides again, so ``change`` must decide from the copy it is given.
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def update(
    read: Callable[[], tuple[T, str] | None],
    save: Callable[[T, str], object],
    change: Callable[[T], bool],
    *,
    attempts: int,
    what: str,
) -> T | None:
    """``change`` mutates the document and returns whether to write it (it may raise to abort).

    Returns the document as written (or as read when nothing was written); ``None`` when it
    does not exist.
    """
    from azure.core.exceptions import ResourceModifiedError

    for _ in range(attempts):
        found = read()
        if found is None:
            return None
        document, etag = found
        if not change(document):
            return document
        try:
            save(document, etag)
            return document
        except ResourceModifiedError:
            continue
    raise RuntimeError(f"{what} kept changing under us")
