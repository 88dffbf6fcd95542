"""In-process looks at stored correspondence requests (Azurite), for tests: what a request
left in storage, and the publish message the queue would deliver for it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from shared.storage import correspondence_store, publish_queue, request_states
from shared.storage.publish_queue import PublishMessage
from shared.use_cases.publish_correspondence import publish_correspondence


def visible(correspondence_id) -> correspondence_store.Visible:
    found = correspondence_store.read_visible(uuid.UUID(str(correspondence_id)))
    assert found is not None, f"correspondence {correspondence_id} is not stored"
    return found


def statuses(correspondence_id) -> list[str]:
    found = visible(correspondence_id)
    return [event.status for event in found.state.history(found.index)]


def message_for(correspondence_id) -> bytes:
    """The body of its request's publish message, as the queue trigger delivers it."""
    return PublishMessage.for_request(visible(correspondence_id).state).model_dump_json().encode()


def publish(correspondence_id, now: datetime | None = None) -> str:
    return publish_correspondence(message_for(correspondence_id), now=now)


def stored_request_keys() -> set[str]:
    """Every request whose content is stored, committed or not."""
    names = correspondence_store.container().list_blob_names(name_starts_with="requests/")
    return {name.removeprefix("requests/").removesuffix(".json") for name in names}


def committed_request_keys() -> set[str]:
    return {entity["requestKey"] for entity in request_states.table().list_entities(select=["requestKey"])}


def decode(body: bytes) -> PublishMessage:
    return publish_queue.decode(body)


# --- from outside the app's process: the raw SDK against its storage account -----------------
def _key_of(connection: str) -> bytes:
    from azure.storage.blob import BlobServiceClient

    from shared.storage import clients, id_key

    blobs = BlobServiceClient.from_connection_string(connection).get_container_client(clients.CORRESPONDENCES_CONTAINER)
    return blobs.download_blob(id_key.BLOB_NAME).readall()


def stored_message(connection: str, correspondence_id) -> dict:
    """The publish message of a correspondence's request, read from storage as it is."""
    from azure.data.tables import TableServiceClient

    from shared.core import correspondence_ids

    request_key, _ = correspondence_ids.decode(_key_of(connection), uuid.UUID(str(correspondence_id)))
    table = TableServiceClient.from_connection_string(connection).get_table_client(request_states.TABLE_NAME)
    [entity] = table.query_entities("requestKey eq @key", parameters={"key": correspondence_ids.request_name(request_key)})
    state = request_states.from_entity(entity)
    return json.loads(PublishMessage.for_request(state).model_dump_json())


def correspondence_id_of(connection: str, request_key: str, index: int = 0) -> uuid.UUID:
    from shared.core import correspondence_ids

    return correspondence_ids.encode(_key_of(connection), correspondence_ids.parse_request_name(request_key), index)
