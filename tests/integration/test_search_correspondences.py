"""Search as the sender against real Azurite (blob + table): filters, ordering, paging across
and within requests, organisation scoping, and a listing that is the state itself.

Every test tags its correspondences with its own ``sendersReference`` (or resource), so the
shared Azurite of the session may hold anything else.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import requests
from tests.support.builders import baseline_request
from tests.support.functions import call, valid_request

ORG_RESOURCE = "ttd-corr-1"


def initialize(token_issuer, body, **token_args):
    response = call("initialize_correspondence", method="POST", body=body, headers=token_issuer.authorization(**token_args))
    assert response.status == 200, response.body
    return [c["correspondenceId"] for c in response.json()["correspondences"]]


def search(token_issuer, org: str | None = None, **params):
    params = {"resourceId": ORG_RESOURCE, "role": "Sender", **{k: str(v) for k, v in params.items()}}
    token_args = {} if org is None else {"org": org}
    return call(
        "search_correspondences",
        url="http://localhost/correspondence/api/v1/correspondence",
        params=params,
        headers=token_issuer.authorization(**token_args),
    )


def ids(token_issuer, **params) -> list[str]:
    response = search(token_issuer, **params)
    assert response.status == 200, response.body
    return response.json()["ids"]


def at(hours: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


def create_at(token_issuer, reference: str, when: datetime, **overrides) -> str:
    body = valid_request(correspondence__sendersReference=reference, correspondence__requestedPublishTime=when.isoformat(), **overrides)
    return initialize(token_issuer, body)[0]


def publish(correspondence_id: str) -> str:
    return requests.publish(correspondence_id)


def purge(token_issuer, correspondence_id: str, **token_args):
    return call(
        "purge_correspondence",
        method="DELETE",
        route_params={"correspondenceId": correspondence_id},
        headers=token_issuer.authorization(**token_args),
    )


def test_newest_requested_publish_time_first(app_env, token_issuer) -> None:
    ref = f"order-{uuid.uuid4()}"
    middle = create_at(token_issuer, ref, at(2))
    oldest = create_at(token_issuer, ref, at(1))
    newest = create_at(token_issuer, ref, at(3))
    assert ids(token_issuer, sendersReference=ref) == [newest, middle, oldest]


def test_from_and_to_filter_on_requested_publish_time_exclusively(app_env, token_issuer) -> None:
    ref = f"dates-{uuid.uuid4()}"
    t1, t2, t3 = at(1), at(2), at(3)
    first, second, third = (create_at(token_issuer, ref, t) for t in (t1, t2, t3))
    assert ids(token_issuer, sendersReference=ref, **{"from": t1.isoformat()}) == [third, second]
    assert ids(token_issuer, sendersReference=ref, to=t3.isoformat()) == [second, first]
    assert ids(token_issuer, sendersReference=ref, to=t3.isoformat(), **{"from": t1.isoformat()}) == [second]
    # Offsets other than UTC, and a '+' that arrived unencoded (as a space).
    local = t2.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert ids(token_issuer, sendersReference=ref, **{"from": local.replace("+", " ")}) == [third]
    assert ids(token_issuer, sendersReference=ref, **{"from": (t3 + timedelta(seconds=1)).isoformat()}) == []


def test_from_after_to_is_1027(app_env, token_issuer) -> None:
    response = search(token_issuer, **{"from": at(2).isoformat(), "to": at(1).isoformat()})
    assert response.status == 400
    assert response.json()["errorCode"] == 1027


def test_status_filter_and_purged_hidden_by_default(app_env, token_issuer) -> None:
    ref = f"status-{uuid.uuid4()}"
    waiting = create_at(token_issuer, ref, at(1))
    published = create_at(token_issuer, ref, at(-0.01))
    purged = create_at(token_issuer, ref, at(2))
    assert publish(published) == "done"
    assert purge(token_issuer, purged).status == 200
    assert ids(token_issuer, sendersReference=ref) == [waiting, published]
    assert ids(token_issuer, sendersReference=ref, status="Published") == [published]
    assert ids(token_issuer, sendersReference=ref, status="readyforpublish") == [waiting]
    assert ids(token_issuer, sendersReference=ref, status="1") == [waiting]  # enum value
    # Upstream's sender blacklist: asking for a purged status finds nothing.
    assert ids(token_issuer, sendersReference=ref, status="PurgedByAltinn") == []
    assert ids(token_issuer, sendersReference=ref, status="Failed") == []


def test_senders_reference_is_an_exact_match(app_env, token_issuer) -> None:
    ref = f"ref-{uuid.uuid4()}"
    exact = create_at(token_issuer, ref, at(1))
    create_at(token_issuer, ref + "-other", at(1))
    assert ids(token_issuer, sendersReference=ref) == [exact]
    assert ids(token_issuer, sendersReference=ref.upper()) == []
    long_ref = "x" * 4000 + str(uuid.uuid4())  # close to the 4096-character limit
    long_id = create_at(token_issuer, long_ref, at(1))
    assert ids(token_issuer, sendersReference=long_ref) == [long_id]


def test_idempotent_key_finds_its_correspondence(app_env, token_issuer) -> None:
    key = str(uuid.uuid4())
    created = initialize(token_issuer, valid_request(idempotentKey=key))[0]
    assert ids(token_issuer, idempotentKey=key) == [created]
    assert ids(token_issuer, idempotentKey=key.upper()) == [created]
    assert ids(token_issuer, idempotentKey=str(uuid.uuid4())) == []


def test_paging_with_continuation_token_and_link_header(app_env, token_issuer) -> None:
    ref = f"paging-{uuid.uuid4()}"
    # One request of 230 recipients (one listing entry): its pages end and resume inside it.
    recipients = [f"0192:{310000000 + n}" for n in range(230)]
    body = valid_request(recipients=recipients, correspondence__sendersReference=ref,
                         correspondence__requestedPublishTime=at(1).isoformat())
    created = initialize(token_issuer, body)
    later = [create_at(token_issuer, ref, at(2 + n)) for n in range(3)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"sendersReference": ref, "pageSize": 100}
        if token:
            params["continuationToken"] = token
        response = search(token_issuer, **params)
        assert response.status == 200, response.body
        page = response.json()
        assert len(page["ids"]) <= 100
        seen.extend(page["ids"])
        pages += 1
        token = page["continuationToken"]
        if token is None:
            assert "Link" not in response.headers
            break
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        query = parse_qs(urlsplit(link[1:link.index(">")]).query)
        assert query["continuationToken"] == [token] and query["sendersReference"] == [ref]
    assert pages == 3
    assert seen[:3] == list(reversed(later))  # newest first across pages
    assert len(seen) == len(set(seen)) == 233
    assert set(seen[3:]) == set(created)


@pytest.mark.parametrize("sent", [" ttd-corr-1 ", "urn:altinn:resource:ttd-corr-1", "\tttd-corr-1\n", " urn:altinn:resource:ttd-corr-1 "])
def test_a_resource_id_is_the_same_normalised_value_at_every_step(app_env, token_issuer, sent: str) -> None:
    """Issue #18 row 5: " ttd-corr-1 " passed the lookup (stripped there) but was stored as
    sent, so a search by either form found nothing. Now validated, looked up, stored, searched
    and shown as "ttd-corr-1"."""
    ref = f"norm-{uuid.uuid4()}"
    body = valid_request(correspondence__sendersReference=ref)
    body["correspondence"]["resourceId"] = sent
    created = initialize(token_issuer, body)
    for form in (sent, "ttd-corr-1", "urn:altinn:resource:ttd-corr-1"):
        response = search(token_issuer, sendersReference=ref, resourceId=form)
        assert response.status == 200, response.body
        assert response.json()["ids"] == created, form
    overview = call("get_correspondence", route_params={"correspondenceId": created[0]}, headers=token_issuer.authorization())
    assert overview.json()["resourceId"] == "ttd-corr-1"


@pytest.mark.parametrize(
    ("settings", "base"),
    [
        ({}, "http://localhost:7071"),
        ({"PUBLIC_BASE_URL": "https://correspondence.example.no/"}, "https://correspondence.example.no"),
        ({"WEBSITE_HOSTNAME": "func-corr-abc.azurewebsites.net"}, "https://func-corr-abc.azurewebsites.net"),
    ],
)
def test_the_link_header_names_the_configured_host_never_the_requests(app_env, token_issuer, monkeypatch, settings, base) -> None:
    """Issue #18 row 8: ``Host: evil.example`` gave ``Link: <http://evil.example/...>``."""
    for name in ("PUBLIC_BASE_URL", "WEBSITE_HOSTNAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    ref = f"link-{uuid.uuid4()}"
    initialize(token_issuer, valid_request(recipients=["07827199405", "26818099001"], correspondence__sendersReference=ref))
    response = call(
        "search_correspondences",
        url="http://evil.example/correspondence/api/v1/correspondence",
        params={"resourceId": ORG_RESOURCE, "role": "Sender", "sendersReference": ref, "pageSize": "1"},
        headers={**token_issuer.authorization(), "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status == 200, response.body
    link = response.headers["Link"]
    assert link.startswith(f"<{base}/correspondence/api/v1/correspondence?"), link
    assert "evil" not in link


def test_default_page_size_is_upstreams_1000_and_bounds_are_checked(app_env, token_issuer) -> None:
    response = search(token_issuer, pageSize=1001)
    assert response.status == 400 and response.json()["code"] == "STD-00000"
    assert search(token_issuer, pageSize=0).status == 400
    bad = search(token_issuer, continuationToken="not-a-token")
    assert bad.status == 400
    assert bad.json()["validationErrors"][0]["paths"] == ["continuationToken"]


def test_request_shape_errors(app_env, token_issuer) -> None:
    missing = call("search_correspondences", params={"role": "Sender"}, headers=token_issuer.authorization())
    assert missing.status == 400
    problem = missing.json()
    assert problem["code"] == "STD-00000" and "errorCode" not in problem
    assert problem["errors"] == {"resourceId": ["The resourceId field is required."]}
    no_role = call("search_correspondences", params={"resourceId": ORG_RESOURCE}, headers=token_issuer.authorization())
    assert no_role.status == 400 and "role" in no_role.json()["errors"]
    for role in ("Recipient", "recipient", "0"):
        response = search(token_issuer, role=role)
        assert response.status == 400
        assert "role=Recipient is not supported" in response.json()["errors"]["role"][0]
    assert search(token_issuer, role="sender").status == 200  # case-insensitive, as upstream
    assert search(token_issuer, role="1").status == 200  # the enum value
    everything_wrong = search(token_issuer, status="Nope", idempotentKey="x", to="yesterday")
    assert everything_wrong.status == 400
    assert set(everything_wrong.json()["errors"]) == {"status", "idempotentKey", "to"}


def test_unauthenticated_is_401(app_env, token_issuer) -> None:
    response = call("search_correspondences", params={"resourceId": ORG_RESOURCE, "role": "Sender"})
    assert response.status == 401


def test_another_organisation_never_sees_our_ids(app_env, token_issuer) -> None:
    ref = f"scope-{uuid.uuid4()}"
    ours = create_at(token_issuer, ref, at(1))
    # Another organisation asking for our resource: no access (upstream's 4001), no ids.
    foreign = search(token_issuer, org="310000000", sendersReference=ref)
    assert foreign.status == 401 and foreign.json()["errorCode"] == 4001
    # Its own resource lists only its own correspondences.
    theirs = initialize(
        token_issuer, baseline_request(correspondence__resourceId="other-corr-1", correspondence__sendersReference=ref), org="310000000"
    )
    own = search(token_issuer, org="310000000", resourceId="other-corr-1", sendersReference=ref)
    assert own.status == 200 and own.json()["ids"] == theirs
    assert ids(token_issuer, sendersReference=ref) == [ours]
    # onBehalfOf another organisation is refused; onBehalfOf ourselves is fine.
    assert search(token_issuer, onBehalfOf="0192:310000000").json()["errorCode"] == 4001
    assert ids(token_issuer, onBehalfOf="0192:991825827", sendersReference=ref) == [ours]
    # Unknown resources: no access either.
    assert search(token_issuer, resourceId="no-such-resource").json()["errorCode"] == 4001


def test_urn_prefixed_resource_id(app_env, token_issuer) -> None:
    ref = f"urn-{uuid.uuid4()}"
    created = create_at(token_issuer, ref, at(1))
    assert ids(token_issuer, resourceId=f"urn:altinn:resource:{ORG_RESOURCE}", sendersReference=ref) == [created]


def test_the_listing_is_the_state_at_once(app_env, token_issuer) -> None:
    """No index to repair: publishing and purging are seen by the next search."""
    ref = f"state-{uuid.uuid4()}"
    due, waiting = create_at(token_issuer, ref, at(-0.01)), create_at(token_issuer, ref, at(3))
    assert ids(token_issuer, sendersReference=ref, status="ReadyForPublish") == [waiting, due]
    assert publish(due) == "done"
    assert ids(token_issuer, sendersReference=ref, status="Published") == [due]
    assert purge(token_issuer, waiting).status == 200
    assert ids(token_issuer, sendersReference=ref) == [due]


def test_one_correspondence_of_a_request_purged_is_left_out_of_its_page(app_env, token_issuer) -> None:
    ref = f"diverged-{uuid.uuid4()}"
    created = initialize(token_issuer, valid_request(recipients=[f"0192:{310000000 + n}" for n in range(5)],
                                                     correspondence__sendersReference=ref,
                                                     correspondence__requestedPublishTime=at(1).isoformat()))
    assert purge(token_issuer, created[2]).status == 200
    first = search(token_issuer, sendersReference=ref, pageSize=2).json()
    second = search(token_issuer, sendersReference=ref, pageSize=2, continuationToken=first["continuationToken"]).json()
    assert first["ids"] == created[:2] and second["ids"] == created[3:] and second["continuationToken"] is None


@pytest.mark.parametrize("value", ["2030-01-01", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00"])
def test_date_formats(app_env, token_issuer, value) -> None:
    assert search(token_issuer, to=value).status == 200


def test_recipient_and_sender_lists_what_was_sent(app_env, token_issuer) -> None:
    """Upstream's Postman collection searches with role=RecipientAndSender and a service-owner
    token: the answer is the sender half, the only one this system holds."""
    ref = f"both-{uuid.uuid4()}"
    sent = initialize(token_issuer, valid_request(correspondence__sendersReference=ref))
    for role in ("RecipientAndSender", "recipientandsender", "2"):
        response = search(token_issuer, role=role, sendersReference=ref)
        assert response.status == 200, response.body
        assert response.json()["ids"] == sent
