"""How much work this worker process takes on at once: the request path first.

One gauge per process, shared by the HTTP wrapper and the background work (publishing,
sweeping) that the Functions worker runs beside it:

* **requests**: at most ``MAX_CONCURRENT_REQUESTS`` run at once; a request that cannot start
  within ``ADMISSION_WAIT_SECONDS`` is answered 503 with ``Retry-After`` at once (``Saturated``)
  instead of queueing behind the others until its client gives up.
* **background work**: at most ``PUBLISH_CONCURRENCY`` units (publish messages) at once. While
  the request path is busy (a quarter of its capacity or more in use), one at a time and at
  most one start per ``PUBLISH_BUSY_SPACING_MS``: the storage account and the cores then go to
  the requests, and publishing catches up when they ease. It never stops: a busy API slows
  publishing down (to 10 requests a second by default), never starves it, and publishing
  never starves the API.

On Flex Consumption the queue-triggered publisher scales on instances of its own (per-function
scaling), so there this mostly guards the request path; on one machine (the local host, a
Premium or Dedicated plan) it is what keeps bulk publishing from taking the cores the API needs.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from shared.core import settings
from shared.core.errors import ServiceUnavailable

DEFAULT_MAX_CONCURRENT_REQUESTS = 32
DEFAULT_ADMISSION_WAIT_SECONDS = 2.0
DEFAULT_PUBLISH_CONCURRENCY = 4
DEFAULT_PUBLISH_BUSY_SPACING_MS = 100


class Saturated(ServiceUnavailable):
    client_detail = "The service is at capacity. Retry after the time in Retry-After."


class Capacity:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.requests = 0
        self.background = 0
        self._last_start = 0.0  # monotonic time the last background unit started

    def _max_requests(self) -> int:
        return max(1, settings.get_int(settings.MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_CONCURRENT_REQUESTS))

    def busy(self) -> bool:
        return self.requests * 4 >= self._max_requests()

    def _background_limit(self) -> int:
        limit = max(1, settings.get_int(settings.PUBLISH_CONCURRENCY, DEFAULT_PUBLISH_CONCURRENCY))
        return 1 if self.busy() else limit

    def _spacing_left(self, now: float) -> float:
        """How long a background unit must still wait to keep the busy-time spacing."""
        if not self.busy():
            return 0.0
        spacing = settings.get_int(settings.PUBLISH_BUSY_SPACING_MS, DEFAULT_PUBLISH_BUSY_SPACING_MS) / 1000
        return max(0.0, self._last_start + spacing - now)

    @contextmanager
    def request(self) -> Iterator[None]:
        wait = settings.get_float(settings.ADMISSION_WAIT_SECONDS, DEFAULT_ADMISSION_WAIT_SECONDS)
        deadline = time.monotonic() + wait
        with self._condition:
            while self.requests >= self._max_requests():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Saturated(f"{self.requests} requests in progress")
                self._condition.wait(remaining)
            self.requests += 1
        try:
            yield
        finally:
            with self._condition:
                self.requests -= 1
                self._condition.notify_all()

    @contextmanager
    def background_work(self) -> Iterator[None]:
        with self._condition:
            while True:
                if self.background < self._background_limit():
                    left = self._spacing_left(time.monotonic())
                    if left <= 0:
                        break
                    self._condition.wait(left)
                else:
                    # Re-checked when work ends and at least every 100 ms (requests come and go).
                    self._condition.wait(0.1)
            self.background += 1
            self._last_start = time.monotonic()
        try:
            yield
        finally:
            with self._condition:
                self.background -= 1
                self._condition.notify_all()


# The worker process's one gauge.
capacity = Capacity()
