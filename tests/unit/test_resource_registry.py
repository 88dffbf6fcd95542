"""The resource registry as a local file, and the sender access rules built on it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared.auth import access
from shared.core import errors
from shared.integrations import resource_registry
from shared.auth.caller import Caller
from shared.core.errors import ServiceUnavailable
from shared.integrations.resource_registry import Resource
from tests.support.tokens import DEV_RESOURCE_REGISTRY

OWNER = "991825827"
OTHER = "310000000"
CORRESPONDENCE_TYPES = (access.CORRESPONDENCE_SERVICE,)
ATTACHMENT_TYPES = (access.CORRESPONDENCE_SERVICE, access.GENERIC_ACCESS_RESOURCE)


def caller(org: str = OWNER) -> Caller:
    return Caller(
        organization=org,
        issuer="https://issuer.example/",
        scopes=frozenset({"altinn:correspondence.write"}),
        token_kind="altinn",
    )


@pytest.fixture(autouse=True)
def dev_registry(fresh_registry_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_REGISTRY", DEV_RESOURCE_REGISTRY)


def authorize_correspondence(who: Caller, resource_id: str) -> Resource:
    return access.authorize_sender(
        who, resource_id, allowed_types=CORRESPONDENCE_TYPES, type_error=errors.CORRESPONDENCE_RESOURCE_TYPE
    )


def _entry_of(raised: pytest.ExceptionInfo[errors.ProblemError]) -> errors.CatalogEntry:
    return raised.value.entry


# --- file mode ---------------------------------------------------------------------------


def test_found_in_the_dev_file() -> None:
    assert resource_registry.get_resource("ttd-corr-1") == Resource("ttd-corr-1", "CorrespondenceService", OWNER)


@pytest.mark.parametrize(
    "resource_id", ["urn:altinn:resource:ttd-generic-1", "URN:ALTINN:RESOURCE:ttd-generic-1", " ttd-generic-1 "]
)
def test_urn_prefix_and_whitespace_are_stripped(resource_id: str) -> None:
    assert resource_registry.get_resource(resource_id) == Resource("ttd-generic-1", "GenericAccessResource", OWNER)


def test_unknown_resource_is_none() -> None:
    assert resource_registry.get_resource("does-not-exist") is None
    assert resource_registry.get_resource("") is None
    assert resource_registry.get_resource("urn:altinn:resource:") is None


def test_resource_without_competent_authority_has_no_owner() -> None:
    assert resource_registry.get_resource("no-owner-1") == Resource("no-owner-1", "CorrespondenceService", None)


def test_file_changes_are_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"identifier": "a", "resourceType": "CorrespondenceService"}]))
    monkeypatch.setenv("RESOURCE_REGISTRY", str(registry))
    assert resource_registry.get_resource("a") is not None
    assert resource_registry.get_resource("b") is None
    registry.write_text(json.dumps([{"identifier": "b", "resourceType": "CorrespondenceService"}]))
    stat = registry.stat()
    os.utime(registry, (stat.st_atime, stat.st_mtime + 5))  # some file systems have coarse mtimes
    assert resource_registry.get_resource("b") is not None


@pytest.mark.parametrize("content", ['{"identifier": "a"}', "not json"])
def test_broken_file_is_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text(content)
    monkeypatch.setenv("RESOURCE_REGISTRY", str(registry))
    with pytest.raises(ServiceUnavailable):
        resource_registry.get_resource("a")


def test_missing_file_is_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_REGISTRY", str(tmp_path / "missing.json"))
    with pytest.raises(ServiceUnavailable):
        resource_registry.get_resource("a")


# --- authorize_sender: upstream's order ----------------------------------------------------


def test_owner_may_send() -> None:
    resource = authorize_correspondence(caller(), "urn:altinn:resource:ttd-corr-2")
    assert resource.owner_organization == OWNER
    assert access.sender_urn(resource.owner_organization) == "urn:altinn:organization:identifier-no:991825827"


@pytest.mark.parametrize("resource_id", ["does-not-exist", "no-owner-1"])
def test_unknown_resource_or_owner_is_1036_before_access(resource_id: str) -> None:
    with pytest.raises(errors.ProblemError) as raised:
        authorize_correspondence(caller(OTHER), resource_id)
    assert _entry_of(raised) is errors.SERVICE_OWNER_NOT_FOUND
    assert raised.value.status == 400


def test_another_organisations_resource_is_4001() -> None:
    with pytest.raises(errors.ProblemError) as raised:
        authorize_correspondence(caller(OWNER), "other-corr-1")
    assert _entry_of(raised) is errors.NO_ACCESS_TO_RESOURCE
    assert raised.value.status == 401


def test_access_is_checked_before_the_resource_type() -> None:
    """A caller learns nothing about another agency's resource types."""
    with pytest.raises(errors.ProblemError) as raised:
        authorize_correspondence(caller(OTHER), "ttd-broker-1")
    assert _entry_of(raised) is errors.NO_ACCESS_TO_RESOURCE


@pytest.mark.parametrize(
    ("resource_id", "allowed", "type_error", "expected"),
    [
        ("ttd-corr-1", CORRESPONDENCE_TYPES, errors.CORRESPONDENCE_RESOURCE_TYPE, None),
        ("ttd-generic-1", CORRESPONDENCE_TYPES, errors.CORRESPONDENCE_RESOURCE_TYPE, errors.CORRESPONDENCE_RESOURCE_TYPE),
        ("ttd-app-1", CORRESPONDENCE_TYPES, errors.CORRESPONDENCE_RESOURCE_TYPE, errors.CORRESPONDENCE_RESOURCE_TYPE),
        ("ttd-app-1", (*CORRESPONDENCE_TYPES, access.ALTINN_APP), errors.CORRESPONDENCE_RESOURCE_TYPE, None),
        ("ttd-broker-1", CORRESPONDENCE_TYPES, errors.CORRESPONDENCE_RESOURCE_TYPE, errors.CORRESPONDENCE_RESOURCE_TYPE),
        ("ttd-corr-1", ATTACHMENT_TYPES, errors.ATTACHMENT_RESOURCE_TYPE, None),
        ("ttd-generic-1", ATTACHMENT_TYPES, errors.ATTACHMENT_RESOURCE_TYPE, None),
        ("ttd-app-1", ATTACHMENT_TYPES, errors.ATTACHMENT_RESOURCE_TYPE, errors.ATTACHMENT_RESOURCE_TYPE),
        ("ttd-broker-1", ATTACHMENT_TYPES, errors.ATTACHMENT_RESOURCE_TYPE, errors.ATTACHMENT_RESOURCE_TYPE),
    ],
)
def test_resource_types(
    resource_id: str, allowed: tuple[str, ...], type_error: errors.CatalogEntry, expected: errors.CatalogEntry | None
) -> None:
    if expected is None:
        assert access.authorize_sender(caller(), resource_id, allowed_types=allowed, type_error=type_error)
        return
    with pytest.raises(errors.ProblemError) as raised:
        access.authorize_sender(caller(), resource_id, allowed_types=allowed, type_error=type_error)
    assert _entry_of(raised) is expected
    assert raised.value.status == 400


def test_missing_resource_type_is_the_type_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "registry.json"
    typeless = {"identifier": "typeless", "hasCompetentAuthority": {"organization": OWNER}}
    registry.write_text(json.dumps([typeless]))
    monkeypatch.setenv("RESOURCE_REGISTRY", str(registry))
    with pytest.raises(errors.ProblemError) as raised:
        access.authorize_sender(
            caller(), "typeless", allowed_types=ATTACHMENT_TYPES, type_error=errors.ATTACHMENT_RESOURCE_TYPE
        )
    assert _entry_of(raised) is errors.ATTACHMENT_RESOURCE_TYPE


# --- ensure_owner (stored attachments and correspondences) ---------------------------------


@pytest.mark.parametrize("sender", [f"urn:altinn:organization:identifier-no:{OWNER}", OWNER, f"0192:{OWNER}"])
def test_owner_of_a_stored_item_passes(sender: str) -> None:
    access.ensure_owner(caller(OWNER), sender)


@pytest.mark.parametrize(
    "sender", [f"urn:altinn:organization:identifier-no:{OTHER}", OTHER, "", "urn:altinn:organization:identifier-no:"]
)
def test_someone_elses_stored_item_is_4001(sender: str) -> None:
    with pytest.raises(errors.ProblemError) as raised:
        access.ensure_owner(caller(OWNER), sender)
    assert _entry_of(raised) is errors.NO_ACCESS_TO_RESOURCE
