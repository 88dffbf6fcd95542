"""A clock that tests move by hand, for the caches that read a module-level ``clock``.

``shared.auth.jwks`` and ``shared.integrations.resource_registry`` read ``clock()`` (a
monotonic time in seconds) to age their caches; the ``fake_clock`` fixture (tests/conftest.py)
puts a ``FakeClock`` there, so a test steps through cache periods without sleeping::

    def test_refetch(fake_clock):
        clock = fake_clock(jwks)
        clock.advance(jwks.KEY_SET_LIFETIME_SECONDS + 1)
"""

from __future__ import annotations

from types import ModuleType
from typing import Callable


class FakeClock:
    """Stands still until ``advance``; ``now`` is its reading (seconds, like time.monotonic)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# The ``fake_clock`` fixture: ``fake_clock(module)`` replaces ``module.clock`` and returns it.
FakeClockFactory = Callable[[ModuleType], FakeClock]
