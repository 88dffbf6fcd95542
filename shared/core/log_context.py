"""The ids a log line is about (request key, correspondence, attachment): never personal data.

A use case ``bind``s what it works on; the HTTP wrapper opens a ``scope`` per request (with the
route's ids) and names them when it logs a 5xx, so a failure can be traced to what it concerned.
Context variables follow the code in its thread (the wrapper, the use case and its storage
calls run in one).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_ids: ContextVar[dict[str, str] | None] = ContextVar("log_ids", default=None)


@contextmanager
def scope(**ids: str) -> Iterator[None]:
    token = _ids.set({name: str(value) for name, value in ids.items()})
    try:
        yield
    finally:
        _ids.reset(token)


def bind(**ids: object) -> None:
    """Add ids to the current scope (outside one, nothing is kept)."""
    current = _ids.get()
    if current is not None:
        current.update({name: str(value) for name, value in ids.items()})


def describe() -> str:
    current = _ids.get() or {}
    return " ".join(f"{name}={value}" for name, value in sorted(current.items())) or "-"
