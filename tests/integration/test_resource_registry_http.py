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


@pytest.mark.parametrize("resource_id", ["..", ".", "urn:altinn:resource:..", "../admin?x=1", "a/b", "a%2Fb"])
def test_ids_that_are_path_steps_or_need_escaping_never_reach_the_registry(registry: LoopbackServer, resource_id: str) -> None:
    """Issue #18 row 4: resourceId '..' requested /resource/.. (path traversal in the registry's
    URL). Now refused with a 400 that says which rule, before any request."""
    with pytest.raises(errors.HttpProblem) as refused:
        resource_registry.get_resource(resource_id)
    assert refused.value.status == 400
    assert sum(registry.requests.values()) == 0


def test_a_redirect_is_not_followed(registry: LoopbackServer) -> None:
    """Issue #18 row 4: a 302 to another local port was followed, and its JSON decided
    ownership. Now a redirect is a registry error (503), and the other host is never asked."""
    with LoopbackServer() as elsewhere:
        elsewhere.route("/api/v1/resource/moved-1", lambda: (200, _document("moved-1")))
        target = elsewhere.url("/api/v1/resource/moved-1")
        for status in (301, 302, 307, 308):
            registry.route("/api/v1/resource/moved-1", lambda status=status: (status, None, {"Location": target}))
            with pytest.raises(ServiceUnavailable):
                resource_registry.get_resource("moved-1")
        assert elsewhere.count("/api/v1/resource/moved-1") == 0


def test_a_redirected_initialize_attachment_is_503_not_200(registry: LoopbackServer, token_issuer, monkeypatch) -> None:
    """The same, end to end through the function: the caller is not let in by another host."""
    from tests.support import attachments as att

    for name, value in token_issuer.env().items():
        monkeypatch.setenv(name, value)
    with LoopbackServer() as elsewhere:
        elsewhere.route("/api/v1/resource/ttd-corr-9", lambda: (200, _document("ttd-corr-9")))
        registry.route("/api/v1/resource/ttd-corr-9", lambda: (302, None, {"Location": elsewhere.url("/api/v1/resource/ttd-corr-9")}))
        response = att.initialize(token_issuer, resourceId="ttd-corr-9")
        assert response.status == 503, response.body
        assert elsewhere.count("/api/v1/resource/ttd-corr-9") == 0


def test_a_document_about_another_resource_is_not_this_one(registry: LoopbackServer) -> None:
    registry.route("/api/v1/resource/asked-1", lambda: (200, _document("other-1")))
    assert resource_registry.get_resource("asked-1") is None


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
