"""Azurite for tests: the storage settings the app reads, and an Azurite of one's own.

``make test`` (``python -m tools.azurite``) starts one Azurite for the run; ``own_azurite`` is
for a host or module that needs storage nobody else touches (queue consumers, stopped storage).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tools.azurite import Azurite, free_ports

# The app settings holding a storage connection (the Functions runtime's and the app's own).
STORAGE_SETTINGS = ("AzureWebJobsStorage", "CorrespondenceStorage")


@contextmanager
def own_azurite(prefix: str) -> Iterator[Azurite]:
    """An Azurite on free ports with a temporary on-disk location, stopped and removed after."""
    location = Path(tempfile.mkdtemp(prefix=prefix))
    azurite = Azurite(free_ports(3), location)
    azurite.start()
    try:
        yield azurite
    finally:
        azurite.stop()
        shutil.rmtree(location, ignore_errors=True)
