"""The key of the correspondence id codec (``shared.core.correspondence_ids``), kept in the
app's own storage account: created once, on first use, with ``If-None-Match: *`` (so two
instances starting together agree on one), read once per process and storage account.

Why in storage and not an app setting: every id ever handed out decodes with this key, so it
must live as long as the data it names, in the same place; a setting could be changed or lost
on its own. Nothing to configure, and no secret in app settings or logs.
"""

from __future__ import annotations

import secrets
import threading

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.storage import clients

BLOB_NAME = "config/correspondence-ids.key"
KEY_BYTES = 32

_lock = threading.Lock()
_keys: dict[object, bytes] = {}


def _blob():
    clients.ensure_storage_once()
    return clients.blob_service().get_blob_client(clients.CORRESPONDENCES_CONTAINER, BLOB_NAME)


def _load() -> bytes:
    blob = _blob()
    try:
        return blob.download_blob().readall()
    except ResourceNotFoundError:
        pass
    try:
        blob.upload_blob(secrets.token_bytes(KEY_BYTES), overwrite=False)
    except ResourceExistsError:
        pass  # another instance (or our own retried create) was first: use that one
    return blob.download_blob().readall()


def key() -> bytes:
    """The key of this storage account (one read per process, the first time)."""
    target = clients.current_target()
    found = _keys.get(target)
    if found is not None:
        return found
    value = _load()
    if len(value) != KEY_BYTES:
        raise RuntimeError(f"{BLOB_NAME} is not a {KEY_BYTES}-byte key")
    with _lock:
        return _keys.setdefault(target, value)


def reset() -> None:
    """For tests that point the process at another storage account."""
    with _lock:
        _keys.clear()
