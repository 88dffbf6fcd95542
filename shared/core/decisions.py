"""What a change to a stored document decided: whether to write it, and what to tell the caller.

Lifecycle rules (``shared.rules``) return these; ``shared.storage.optimistic`` writes the
document when asked and hands the outcome back, so no result leaves a change through a closure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Decision(Generic[R]):
    write: bool
    outcome: R | None = None


def save(outcome: R | None = None) -> Decision[R]:
    """Write the changed document; hand ``outcome`` to the caller."""
    return Decision(True, outcome)


def keep(outcome: R | None = None) -> Decision[R]:
    """Write nothing; hand ``outcome`` to the caller."""
    return Decision(False, outcome)
