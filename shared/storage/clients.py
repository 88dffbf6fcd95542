"""One factory for the application's storage clients, created once per process.

``CorrespondenceStorage`` is either a connection string (any Azurite ports) or, in Azure,
identity-based settings ``CorrespondenceStorage__blobServiceUri`` / ``__queueServiceUri``
(+ ``__clientId``) used with a managed identity. It falls back to ``AzureWebJobsStorage``.

Two retry profiles: the request path fails fast (an outage answers 503 within seconds instead
of after the SDK's default minute of retries); background work (queue consumers, sweeper) is
patient, since nobody waits on it and the queue retries anyway.

The SDKs are imported here at module level, like everything else: every function but the
OpenAPI document touches storage on its first request, and the Functions worker loads all
function folders when it starts, so deferring them would only move the cost (``make bench``
measures cold start to the first initialize). The exception is ``azure.identity`` (about 80 ms
to import, measured with ``python -X importtime``), imported only when identity-based settings
are used: a connection string (Azurite, tests) never needs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import requests
from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient, ExponentialRetry, LinearRetry
from azure.storage.queue import (
    BinaryBase64DecodePolicy,
    BinaryBase64EncodePolicy,
    QueueServiceClient,
)

from shared.core import settings

Profile = Literal["request", "background"]

CORRESPONDENCES_CONTAINER = "correspondences"
ATTACHMENTS_CONTAINER = "attachments"
ATTACHMENT_RECORDS_CONTAINER = "attachment-records"
# Staging blobs of direct uploads (shared.storage.direct_upload): only upload URLs write here,
# and nothing reads it but the copy into ``attachments``.
UPLOADS_CONTAINER = "attachment-uploads"
PUBLISH_QUEUE = "correspondence-publish"
CONTAINERS = (CORRESPONDENCES_CONTAINER, ATTACHMENTS_CONTAINER, ATTACHMENT_RECORDS_CONTAINER, UPLOADS_CONTAINER)
QUEUES = (PUBLISH_QUEUE, f"{PUBLISH_QUEUE}-poison")

# Enough connections for the worker's thread pool plus parallel block uploads.
_POOL_SIZE = 64


@dataclass(frozen=True)
class _Target:
    """Which account, and how: a connection string, or service URIs with a managed identity."""

    setting: str
    connection_string: str | None = None
    blob_uri: str | None = None
    queue_uri: str | None = None
    table_uri: str | None = None
    client_id: str | None = None

    def uri(self, service: str) -> str:
        value = getattr(self, f"{service}_uri")
        if not value:
            raise settings.MissingSettingError(f"{self.setting}__{service}ServiceUri")
        return value


def _target() -> _Target:
    for name in (settings.CORRESPONDENCE_STORAGE, settings.AZURE_WEBJOBS_STORAGE):
        value = settings.get(name)
        if value:
            return _Target(name, connection_string=value)
        uris = {service: settings.get(f"{name}__{service}ServiceUri") for service in ("blob", "queue", "table")}
        if any(uris.values()):
            return _Target(
                name,
                blob_uri=uris["blob"],
                queue_uri=uris["queue"],
                table_uri=uris["table"],
                client_id=settings.get(f"{name}__clientId"),
            )
    raise settings.MissingSettingError(settings.CORRESPONDENCE_STORAGE)


def _transport(profile: Profile) -> RequestsTransport:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=_POOL_SIZE, pool_maxsize=_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if profile == "request":
        return RequestsTransport(session=session, session_owner=False, connection_timeout=2, read_timeout=20)
    return RequestsTransport(session=session, session_owner=False, connection_timeout=5, read_timeout=60)


def _client_options(profile: Profile) -> dict[str, object]:
    """Blob and queue clients (the storage SDKs take a retry policy object)."""
    if profile == "request":
        # Two quick retries (about 0.6 s in all) ride out a blip; an outage answers at once.
        retry = LinearRetry(backoff=0.3, retry_total=2, random_jitter_range=0.1)
    else:
        retry = ExponentialRetry(initial_backoff=1, increment_base=3, retry_total=4)
    return {"retry_policy": retry, "transport": _transport(profile)}


def _table_options(profile: Profile) -> dict[str, object]:
    """Table clients (azure-data-tables takes azure-core's retry settings)."""
    if profile == "request":
        return {"retry_total": 2, "retry_backoff_factor": 0.3, "retry_backoff_max": 1, "transport": _transport(profile)}
    return {"retry_total": 4, "retry_backoff_factor": 1, "retry_backoff_max": 10, "transport": _transport(profile)}


_SERVICE_CLASSES = {"blob": BlobServiceClient, "queue": QueueServiceClient, "table": TableServiceClient}
_lock = threading.Lock()
_clients: dict[tuple[str, _Target, Profile], object] = {}
_named_queues: dict[tuple[str, Profile], object] = {}
_credentials: dict[str | None, object] = {}


def _credential(target: _Target) -> object:
    if target.client_id not in _credentials:
        # The one deferred import (see the module docstring): only identity-based settings need it.
        from azure.identity import ManagedIdentityCredential

        _credentials[target.client_id] = ManagedIdentityCredential(client_id=target.client_id)
    return _credentials[target.client_id]


def current_target() -> _Target:
    """Which account this process talks to now (a cache key for what belongs to one account)."""
    return _target()


def _service_client(service: str, profile: Profile):
    """The ``service`` ("blob", "queue", "table") client of the current target, built once."""
    target = _target()
    key = (service, target, profile)
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            cls = _SERVICE_CLASSES[service]
            options = _table_options(profile) if service == "table" else _client_options(profile)
            if target.connection_string:
                client = cls.from_connection_string(target.connection_string, **options)
            else:
                client = cls(target.uri(service), credential=_credential(target), **options)
            _clients[key] = client
    return client


def blob_service(profile: Profile = "request") -> BlobServiceClient:
    return _service_client("blob", profile)


def queue_service(profile: Profile = "request") -> QueueServiceClient:
    return _service_client("queue", profile)


def table_service(profile: Profile = "request") -> TableServiceClient:
    return _service_client("table", profile)


def queue_client(name: str, profile: Profile = "request"):
    """A client for one queue that sends and receives bytes as base64 text, which is what the
    Functions queue trigger expects (host.json ``messageEncoding: base64``)."""
    key = (name, profile)
    client = _named_queues.get(key)
    if client is None:
        client = queue_service(profile).get_queue_client(
            name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy()
        )
        _named_queues[key] = client
    return client


def ensure_storage() -> None:
    """Create the containers and queues the app uses (idempotent). Bicep creates them in Azure."""
    blobs = blob_service("background")
    for name in CONTAINERS:
        try:
            blobs.create_container(name)
        except ResourceExistsError:
            pass
    queues = queue_service("background")
    for name in QUEUES:
        try:
            queues.create_queue(name)
        except ResourceExistsError:
            pass


_prepared: set[_Target] = set()
_prepare_lock = threading.Lock()


def ensure_storage_once() -> None:
    """``ensure_storage`` on first use in this process, per storage account."""
    target = _target()
    if target in _prepared:
        return
    with _prepare_lock:
        if target not in _prepared:
            ensure_storage()
            _prepared.add(target)


def reset_clients() -> None:
    """For tests that point the process at another storage account (caches keyed by account
    elsewhere, the table clients and the id key, follow on their own)."""
    with _lock:
        _clients.clear()
        _named_queues.clear()
        _prepared.clear()
