"""Purge as the sender against real Azurite: before/after publication, twice, another
organisation, attachments released, the publisher never publishing a purged correspondence,
and purge racing the publisher (exactly one wins)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from shared.storage import attachment_store
from shared.use_cases import publish_correspondence as publishing
from shared.core.documents import AttachmentLink
from tests.support import attachments as attachment_api
from tests.support import requests
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


message_for = requests.message_for
statuses = requests.statuses


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
    found = requests.visible(created)
    assert found.state.published(found.index) is None


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
    found = requests.visible(created)
    link = AttachmentLink(requestKey=found.state.requestKey, partition=found.keys.partition, row=found.keys.row, count=1)
    publishing.fail_correspondences([link], "Attachment x failed its malware scan")
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
    assert attachment_store.read(uuid.UUID(attachment_id)).is_linked()
    assert attachment_api.overview(token_issuer, attachment_id).json()["correspondenceIds"] == [created]
    assert purge(token_issuer, created).status == 200
    assert not attachment_store.read(uuid.UUID(attachment_id)).is_linked()
    assert attachment_api.overview(token_issuer, attachment_id).json()["correspondenceIds"] == []
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


def test_purging_one_correspondence_of_a_500_recipient_request_leaves_the_others(app_env, token_issuer) -> None:
    """The purged one leaves its request's shared lifecycle; the other 499 are published when
    the time comes, and the search lists exactly them."""
    from tests.support.builders import many_recipients

    ref = f"bulk-{uuid.uuid4()}"
    attachment_id = attachment_api.create(token_issuer)
    assert attachment_api.upload(token_issuer, attachment_id, b"letter").status == 200
    ids = initialize(token_issuer, valid_request(
        recipients=many_recipients(500), existingAttachments=[attachment_id],
        correspondence__sendersReference=ref, correspondence__requestedPublishTime=later(),
    ))
    assert purge(token_issuer, ids[137]).status == 200
    assert statuses(ids[137]) == ["Initialized", "ReadyForPublish", "PurgedByAltinn"]
    assert publishing.publish_correspondence(message_for(ids[0]), now=datetime.now(timezone.utc) + timedelta(hours=2)) == "done"
    assert statuses(ids[136]) == statuses(ids[138]) == ["Initialized", "ReadyForPublish", "Published"]
    assert statuses(ids[137]) == ["Initialized", "ReadyForPublish", "PurgedByAltinn"]
    assert details(token_issuer, ids[137])["status"] == "PurgedByAltinn"
    assert sorted(search_ids(token_issuer, sendersReference=ref)) == sorted(ids[:137] + ids[138:])
    linked = attachment_api.overview(token_issuer, attachment_id).json()["correspondenceIds"]
    assert linked == ids[:137] + ids[138:]
