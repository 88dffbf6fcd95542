"""Purge as the sender against real Azurite: before/after publication, twice, another
organisation, attachments released, the publisher never publishing a purged correspondence,
and purge racing the publisher (exactly one wins)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from shared.storage import attachment_store
from shared.use_cases import publish_correspondence as publishing
from shared.storage import correspondence_store as store
from tests.support import attachments as attachment_api
from tests.support.functions import call, valid_request


def initialize(token_issuer, body, **token_args) -> list[str]:
    response = call("initialize_correspondence", method="POST", body=body, headers=token_issuer.authorization(**token_args))
    assert response.status == 200, response.body
    return [c["correspondenceId"] for c in response.json()["correspondences"]]


def purge(token_issuer, correspondence_id: str, **token_args):
    return call(
        "purge_correspondence",
        method="DELETE",
        route_params={"correspondenceId": str(correspondence_id)},
        headers=token_issuer.authorization(**token_args),
    )


def details(token_issuer, correspondence_id: str) -> dict:
    response = call(
        "get_correspondence_details",
        route_params={"correspondenceId": correspondence_id},
        headers=token_issuer.authorization(),
    )
    assert response.status == 200, response.body
    return response.json()


def search_ids(token_issuer, **params) -> list[str]:
    response = call(
        "search_correspondences",
        params={"resourceId": "ttd-corr-1", "role": "Sender", **params},
        headers=token_issuer.authorization(),
    )
    assert response.status == 200, response.body
    return response.json()["ids"]


def later(hours: float = 1) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat()


def message_for(correspondence_id: str) -> bytes:
    record, _ = store.read_record(uuid.UUID(correspondence_id))
    manifest = store.read_manifest(record.requestId)
    message = store.PublishMessage(
        requestId=record.requestId, count=len(manifest.correspondenceIds), created=record.created, publishAt=record.requestedPublishTime
    )
    return message.model_dump_json().encode()


def statuses(correspondence_id: str) -> list[str]:
    return [e.status for e in store.read_record(uuid.UUID(correspondence_id))[0].statusHistory]


def test_purge_before_publication(app_env, token_issuer) -> None:
    ref = f"purge-{uuid.uuid4()}"
    [created] = initialize(token_issuer, valid_request(correspondence__sendersReference=ref, correspondence__requestedPublishTime=later()))
    assert search_ids(token_issuer, sendersReference=ref) == [created]
    response = purge(token_issuer, created)
    assert response.status == 200
    assert response.json() == created  # upstream: Ok(correspondenceId), a JSON string
    view = details(token_issuer, created)
    assert view["status"] == "PurgedByAltinn"
    assert [e["status"] for e in view["statusHistory"]] == ["Initialized", "ReadyForPublish", "PurgedByAltinn"]
    assert view["statusHistory"][-1]["statusText"] == "PurgedByAltinn"
    assert search_ids(token_issuer, sendersReference=ref) == []  # hidden from the sender's list
    # The publisher, when the publish time comes, leaves it alone.
    due = message_for(created)
    assert publishing.publish_correspondence(due, now=datetime.now(timezone.utc) + timedelta(hours=2)) == "done"
    assert statuses(created) == ["Initialized", "ReadyForPublish", "PurgedByAltinn"]
    assert store.read_record(uuid.UUID(created))[0].published is None


def test_purge_twice_is_1014(app_env, token_issuer) -> None:
    [created] = initialize(token_issuer, valid_request(correspondence__requestedPublishTime=later()))
    assert purge(token_issuer, created).status == 200
    again = purge(token_issuer, created)
    assert again.status == 400 and again.json()["errorCode"] == 1014
    assert statuses(created).count("PurgedByAltinn") == 1


def test_purge_after_publication_is_1013(app_env, token_issuer) -> None:
    [created] = initialize(token_issuer, valid_request())
    assert publishing.publish_correspondence(message_for(created)) == "done"
    response = purge(token_issuer, created)
    assert response.status == 400 and response.json()["errorCode"] == 1013
    assert statuses(created)[-1] == "Published"


def test_failed_correspondence_can_be_purged(app_env, token_issuer) -> None:
    [created] = initialize(token_issuer, valid_request(correspondence__requestedPublishTime=later()))
    publishing.fail_correspondences([uuid.UUID(created)], "Attachment x failed its malware scan")
    assert purge(token_issuer, created).status == 200
    assert statuses(created)[-2:] == ["Failed", "PurgedByAltinn"]


def test_unknown_and_foreign(app_env, token_issuer) -> None:
    unknown = purge(token_issuer, str(uuid.uuid4()))
    assert unknown.status == 404 and unknown.json()["errorCode"] == 1001
    [created] = initialize(token_issuer, valid_request(correspondence__requestedPublishTime=later()))
    foreign = purge(token_issuer, created, org="310000000")
    assert foreign.status == 401 and foreign.json()["errorCode"] == 4001
    assert "PurgedByAltinn" not in statuses(created)
    no_token = call("purge_correspondence", method="DELETE", route_params={"correspondenceId": created})
    assert no_token.status == 401


def test_purge_releases_attachment_links(app_env, token_issuer) -> None:
    attachment_id = attachment_api.create(token_issuer)
    assert attachment_api.upload(token_issuer, attachment_id, b"hello").status == 200
    [created] = initialize(
        token_issuer, valid_request(existingAttachments=[attachment_id], correspondence__requestedPublishTime=later())
    )
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert uuid.UUID(created) in record.correspondenceIds
    assert purge(token_issuer, created).status == 200
    assert attachment_store.read(uuid.UUID(attachment_id)).correspondenceIds == []
    # No longer linked: the sender may now purge the attachment itself.
    assert attachment_api.purge(token_issuer, attachment_id).status == 204


def test_purge_racing_the_publisher_has_exactly_one_winner(app_env, token_issuer) -> None:
    for _ in range(5):
        [created] = initialize(token_issuer, valid_request())
        body = message_for(created)
        with ThreadPoolExecutor(max_workers=2) as pool:
            purged = pool.submit(purge, token_issuer, created)
            published = pool.submit(publishing.publish_correspondence, body)
            response, _ = purged.result(), published.result()
        history = statuses(created)
        final = [s for s in history if s in ("Published", "PurgedByAltinn")]
        assert len(final) == 1, history
        if final == ["PurgedByAltinn"]:
            assert response.status == 200
        else:
            assert response.status == 400 and response.json()["errorCode"] == 1013
