"""End to end through the local host over HTTP: initialize with an idempotency key, 409 on the
repeat, find the id by searching for the key, follow its details until the local publisher has
published it, then page, purge and route checks on the same path as initialize."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import requests

from tests.support.functions import valid_request

from tests.support.waiting import wait_for

API = "/correspondence/api/v1"



def test_idempotent_initialize_search_and_details_up_to_published(local_app, token_issuer) -> None:
    headers = token_issuer.authorization()
    key = str(uuid.uuid4())
    body = valid_request(idempotentKey=key)

    first = requests.post(f"{local_app.url}{API}/correspondence", json=body, headers=headers, timeout=15)
    assert first.status_code == 200, first.text
    created = first.json()["correspondences"][0]["correspondenceId"]

    repeat = requests.post(f"{local_app.url}{API}/correspondence", json=body, headers=headers, timeout=15)
    assert repeat.status_code == 409
    assert repeat.json()["errorCode"] == 1034

    # GET on the same path as the POST above is the search (two functions, one route).
    found = requests.get(
        f"{local_app.url}{API}/correspondence",
        params={"resourceId": "ttd-corr-1", "role": "Sender", "idempotentKey": key},
        headers=headers,
        timeout=10,
    )
    assert found.status_code == 200, found.text
    assert found.headers["Content-Type"].startswith("application/json")
    assert found.json() == {"ids": [created], "continuationToken": None}

    def published():
        response = requests.get(f"{local_app.url}{API}/correspondence/{created}/details", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        view = response.json()
        return view if view["status"] == "Published" else None

    view = wait_for(published, timeout=30)
    history = view["statusHistory"]
    assert [e["status"] for e in history] == ["Initialized", "ReadyForPublish", "Published"]
    assert all(set(e) == {"status", "statusText", "statusChanged"} for e in history)
    assert [e["statusChanged"] for e in history] == sorted(e["statusChanged"] for e in history)
    assert view["notifications"] == []
    assert view["published"] is not None

    # The index follows the publisher: the key now lists it as Published.
    by_status = requests.get(
        f"{local_app.url}{API}/correspondence",
        params={"resourceId": "ttd-corr-1", "role": "Sender", "idempotentKey": key, "status": "Published"},
        headers=headers,
        timeout=10,
    )
    assert by_status.json()["ids"] == [created]

    # Published: the sender can no longer purge it.
    refused = requests.delete(f"{local_app.url}{API}/correspondence/{created}/purge", headers=headers, timeout=10)
    assert refused.status_code == 400 and refused.json()["errorCode"] == 1013


def test_paging_and_purge_over_http(local_app, token_issuer) -> None:
    headers = token_issuer.authorization()
    ref = f"e2e-{uuid.uuid4()}"
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    body = valid_request(
        recipients=["07827199405", "26818099001", "08900499559"],
        correspondence__sendersReference=ref,
        correspondence__requestedPublishTime=later,
    )
    response = requests.post(f"{local_app.url}{API}/correspondence", json=body, headers=headers, timeout=15)
    assert response.status_code == 200, response.text
    created = [c["correspondenceId"] for c in response.json()["correspondences"]]

    url = f"{local_app.url}{API}/correspondence?resourceId=ttd-corr-1&role=Sender&sendersReference={ref}&pageSize=2"
    seen = []
    while url:
        page = requests.get(url, headers=headers, timeout=10)
        assert page.status_code == 200, page.text
        seen.extend(page.json()["ids"])
        url = page.links.get("next", {}).get("url")  # the Link header's next page
    assert sorted(seen) == sorted(created)

    purged = requests.delete(f"{local_app.url}{API}/correspondence/{created[0]}/purge", headers=headers, timeout=10)
    assert purged.status_code == 200 and purged.json() == created[0]
    again = requests.delete(f"{local_app.url}{API}/correspondence/{created[0]}/purge", headers=headers, timeout=10)
    assert again.status_code == 400 and again.json()["errorCode"] == 1014
    remaining = requests.get(
        f"{local_app.url}{API}/correspondence",
        params={"resourceId": "ttd-corr-1", "role": "Sender", "sendersReference": ref},
        headers=headers,
        timeout=10,
    ).json()["ids"]
    assert sorted(remaining) == sorted(created[1:])


def test_search_and_initialize_share_a_route(local_app, token_issuer) -> None:
    headers = token_issuer.authorization()
    url = f"{local_app.url}{API}/correspondence"
    put = requests.put(url, headers=headers, timeout=10)
    assert put.status_code == 405
    assert {m.strip() for m in put.headers["Allow"].split(",")} >= {"GET", "POST"}
    missing = requests.get(url, params={"role": "Sender"}, headers=headers, timeout=10)
    assert missing.status_code == 400 and "resourceId" in missing.json()["errors"]
    get_purge = requests.get(f"{url}/{uuid.uuid4()}/purge", headers=headers, timeout=10)
    assert get_purge.status_code == 405 and get_purge.headers["Allow"] == "DELETE"
