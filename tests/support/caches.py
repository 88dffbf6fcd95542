"""Forget the storage clients ``shared`` caches per process (for a test that points the
process at another storage account or transport).

The fixture ``fresh_storage_clients`` (tests/conftest.py) calls this before and after a test;
the helpers in tests/support/faults.py call it after they change settings or transport.
"""

from __future__ import annotations

from shared.storage import clients as storage_clients
from shared.storage import correspondence_index


def reset_storage_clients() -> None:
    """The blob, queue and table service clients, and the index's table clients."""
    storage_clients.reset_clients()
    correspondence_index.reset_clients()
