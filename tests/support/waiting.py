"""Polling for an eventually true condition in end-to-end tests."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float, interval: float = 0.2):
    """The first truthy value of ``predicate()``, or AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(interval)
