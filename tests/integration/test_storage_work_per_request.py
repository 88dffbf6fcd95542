"""Storage work per request does not grow with its recipients (issue: bulk sending that holds).

Every storage call the process makes is counted by the transport (the SDK's last step before
the wire), for a 1-recipient request and a 500-recipient one: initialize, publish, read one
correspondence, purge one, search. The counts must be equal.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.pipeline.transport import RequestsTransport

from tests.support import requests
from tests.support.builders import many_recipients
from tests.support.faults import use_app_settings, use_transport
from tests.support.functions import call, valid_request


class CountingTransport(RequestsTransport):
    calls: Counter = Counter()

    def send(self, request, **kwargs):
        path = request.url.split("?")[0].split("/", 4)[-1]  # container/blob, table or queue path
        kind = path.split("/", 1)[0].split("(", 1)[0]
        CountingTransport.calls[f"{request.method} {kind}"] += 1
        return super().send(request, **kwargs)


@pytest.fixture
def counted(fresh_storage_clients, private_azurite, token_issuer, monkeypatch):
    use_app_settings(monkeypatch, token_issuer, private_azurite.connection_string)
    use_transport(monkeypatch, CountingTransport)
    return CountingTransport.calls


def _counted(calls: Counter, action) -> tuple[Counter, object]:
    calls.clear()
    result = action()
    return Counter(calls), result


def _work(token_issuer, calls: Counter, recipients: list[str]) -> dict[str, Counter]:
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    body = valid_request(recipients=recipients, correspondence__requestedPublishTime=later,
                         correspondence__sendersReference=f"work-{len(recipients)}")
    headers = token_issuer.authorization()
    work, response = _counted(calls, lambda: call("initialize_correspondence", method="POST", body=body, headers=headers))
    assert response.status == 200, response.body
    ids = [c["correspondenceId"] for c in response.json()["correspondences"]]
    found = {"initialize": work}
    found["read one"], got = _counted(calls, lambda: call(
        "get_correspondence", route_params={"correspondenceId": ids[-1]}, headers=headers))
    assert got.status == 200
    found["purge one"], purged = _counted(calls, lambda: call(
        "purge_correspondence", method="DELETE", route_params={"correspondenceId": ids[0]}, headers=headers))
    assert purged.status == 200
    message = requests.message_for(ids[-1])
    found["publish"], outcome = _counted(calls, lambda: requests.publish_correspondence(
        message, now=datetime.now(timezone.utc) + timedelta(hours=2)))
    assert outcome == "done"
    found["search"], page = _counted(calls, lambda: call(
        "search_correspondences", params={"resourceId": "ttd-corr-1", "role": "Sender",
                                          "sendersReference": f"work-{len(recipients)}"}, headers=headers))
    assert len(page.json()["ids"]) == len(recipients) - 1
    return found


def test_the_same_storage_calls_for_1_and_for_500_recipients(counted, token_issuer) -> None:
    warm = call("initialize_correspondence", method="POST", body=valid_request(), headers=token_issuer.authorization())
    assert warm.status == 200  # containers, table, id key: once per process
    requests.publish(warm.json()["correspondences"][0]["correspondenceId"])  # the background clients too
    one = _work(token_issuer, counted, ["0192:991825827", "0192:310000001"])  # 2: one to purge
    many = _work(token_issuer, counted, many_recipients(500))
    for step in one:
        assert many[step] == one[step], (step, one[step], many[step])
    # What each costs (documented in the README): a handful of calls.
    assert sum(one["initialize"].values()) == 3, one["initialize"]  # message, content, state
    assert sum(one["publish"].values()) == 2, one["publish"]  # read the state, write it
    assert sum(one["read one"].values()) == 2, one["read one"]  # the content, the state
