"""The resource registry client over real HTTP on loopback."""

from __future__ import annotations

import pytest

from shared.auth import access
from shared.core import errors
from shared.integrations import resource_registry
from shared.auth.caller import Caller
from shared.core.errors import ServiceUnavailable
from shared.integrations.resource_registry import Resource
from tests.support.clock import FakeClockFactory
from tests.support.loopback import LoopbackServer, unused_port

pytestmark = pytest.mark.usefixtures("fresh_registry_cache")

OWNER = "991825827"
TYPES = (access.CORRESPONDENCE_SERVICE,)


def _document(identifier: str, owner: str | None = OWNER, resource_type: str = "CorrespondenceService") -> dict:
    document: dict = {"identifier": identifier, "resourceType": resource_type, "title": {"nb": "Test"}}
    if owner is not None:
        document["hasCompetentAuthority"] = {"organization": owner, "orgcode": "ttd", "name": {"nb": "Testdepartementet"}}
    return document


def _caller(org: str = OWNER) -> Caller:
    return Caller(organization=org, issuer="https://issuer.example/", scopes=frozenset(), token_kind="altinn")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch):
    with LoopbackServer() as server:
        server.route("/api/v1/resource/ttd-corr-1", lambda: (200, _document("ttd-corr-1")))
        server.route("/api/v1/resource/other-corr-1", lambda: (200, _document("other-corr-1", owner="310000000")))
        server.route("/api/v1/resource/no-owner-1", lambda: (200, _document("no-owner-1", owner=None)))
        server.route("/api/v1/resource/empty-1", lambda: (204, None))
        # A trailing slash on the base URL must not matter.
        monkeypatch.setenv("RESOURCE_REGISTRY", server.url("/api/v1/"))
        yield server


def test_found(registry: LoopbackServer) -> None:
    assert resource_registry.get_resource("urn:altinn:resource:ttd-corr-1") == Resource(
        "ttd-corr-1", "CorrespondenceService", OWNER
    )
    assert registry.count("/api/v1/resource/ttd-corr-1") == 1


def test_found_is_cached_for_ten_minutes(registry: LoopbackServer, fake_clock: FakeClockFactory) -> None:
    clock = fake_clock(resource_registry)
    for _ in range(5):
        assert resource_registry.get_resource("ttd-corr-1") is not None
    assert registry.count("/api/v1/resource/ttd-corr-1") == 1
    clock.advance(resource_registry.FOUND_CACHE_SECONDS - 1)
    resource_registry.get_resource("ttd-corr-1")
    assert registry.count("/api/v1/resource/ttd-corr-1") == 1
    clock.advance(2)
    resource_registry.get_resource("ttd-corr-1")
    assert registry.count("/api/v1/resource/ttd-corr-1") == 2


@pytest.mark.parametrize("resource_id", ["unknown-1", "empty-1"])
def test_404_and_204_are_none_and_cached_briefly(
    registry: LoopbackServer, fake_clock: FakeClockFactory, resource_id: str
) -> None:
    clock = fake_clock(resource_registry)
    path = f"/api/v1/resource/{resource_id}"
    assert resource_registry.get_resource(resource_id) is None
    assert resource_registry.get_resource(resource_id) is None
    assert registry.count(path) == 1
    clock.advance(resource_registry.NOT_FOUND_CACHE_SECONDS + 1)
    assert resource_registry.get_resource(resource_id) is None
    assert registry.count(path) == 2


def test_unknown_resource_is_1036(registry: LoopbackServer) -> None:
    for resource_id in ("unknown-1", "no-owner-1"):
        with pytest.raises(errors.ProblemError) as raised:
            access.authorize_sender(_caller(), resource_id, allowed_types=TYPES, type_error=errors.CORRESPONDENCE_RESOURCE_TYPE)
        assert raised.value.entry is errors.SERVICE_OWNER_NOT_FOUND


def test_another_organisations_resource_is_4001(registry: LoopbackServer) -> None:
    with pytest.raises(errors.ProblemError) as raised:
        access.authorize_sender(_caller(), "other-corr-1", allowed_types=TYPES, type_error=errors.CORRESPONDENCE_RESOURCE_TYPE)
    assert raised.value.entry is errors.NO_ACCESS_TO_RESOURCE


def test_identifier_is_escaped_into_one_path_segment(registry: LoopbackServer) -> None:
    assert resource_registry.get_resource("../admin?x=1") is None
    assert registry.count("/api/v1/resource/..%2Fadmin%3Fx%3D1") == 1
    assert registry.count("/api/v1/admin") == 0


@pytest.mark.parametrize("status", [500, 502, 401, 429])
def test_registry_errors_are_503_and_not_cached(registry: LoopbackServer, status: int) -> None:
    registry.route("/api/v1/resource/flaky-1", lambda: (status, {"title": "boom"}))
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            resource_registry.get_resource("flaky-1")
    assert registry.count("/api/v1/resource/flaky-1") == 2
    registry.route("/api/v1/resource/flaky-1", lambda: (200, _document("flaky-1")))
    assert resource_registry.get_resource("flaky-1") is not None


def test_invalid_json_is_503(registry: LoopbackServer) -> None:
    registry.route("/api/v1/resource/odd-1", lambda: (200, None))  # empty body
    with pytest.raises(ServiceUnavailable):
        resource_registry.get_resource("odd-1")


def test_unreachable_registry_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_REGISTRY", f"http://127.0.0.1:{unused_port()}/api/v1")
    with pytest.raises(ServiceUnavailable):
        resource_registry.get_resource("ttd-corr-1")
    with pytest.raises(ServiceUnavailable):
        access.authorize_sender(_caller(), "ttd-corr-1", allowed_types=TYPES, type_error=errors.CORRESPONDENCE_RESOURCE_TYPE)
