from datetime import datetime, timezone

import pytest

from tools.localhost.app_settings import resolve, timespan_seconds
from tools.localhost.routes import compile_route, sort_routes
from tools.localhost.timer_trigger import next_occurrence

GUID = "0198c0de-7a11-7c3e-9f1e-2b51d4a0c001"


def test_literal_route_matches_case_insensitively() -> None:
    route = compile_route("correspondence/api/v1/correspondence")
    assert route.match("/correspondence/api/v1/correspondence") == {}
    assert route.match("/Correspondence/API/v1/correspondence") == {}
    assert route.match("/correspondence/api/v1/correspondence/x") is None


def test_guid_constraint() -> None:
    route = compile_route("correspondence/api/v1/attachment/{attachmentId:guid}/upload")
    assert route.match(f"/correspondence/api/v1/attachment/{GUID}/upload") == {"attachmentId": GUID}
    assert route.match("/correspondence/api/v1/attachment/not-a-guid/upload") is None


def test_plain_optional_and_catch_all_parameters() -> None:
    assert compile_route("a/{x}").match("/a/b") == {"x": "b"}
    assert compile_route("a/{x}").match("/a/b/c") is None
    optional = compile_route("a/{x?}")
    assert optional.match("/a") == {}
    assert optional.match("/a/1") == {"x": "1"}
    assert compile_route("files/{*rest}").match("/files/a/b/c") == {"rest": "a/b/c"}
    assert compile_route("n/{id:int}").match("/n/12") == {"id": "12"}
    assert compile_route("n/{id:int}").match("/n/ab") is None


def test_literal_routes_win_over_parameters() -> None:
    param = compile_route("items/{id}")
    literal = compile_route("items/special")
    ordered = sort_routes([param, literal])
    assert ordered[0] is literal


def test_unsupported_segment_is_refused() -> None:
    with pytest.raises(ValueError):
        compile_route("a/x{y}")


def test_timespans_and_setting_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert timespan_seconds("00:00:02", 0) == 2
    assert timespan_seconds("1.00:00:01", 0) == 86401
    assert timespan_seconds(None, 7) == 7
    monkeypatch.setenv("QUEUE_X", "my-queue")
    assert resolve("%QUEUE_X%") == "my-queue"
    with pytest.raises(KeyError):
        resolve("%NOT_SET_ANYWHERE%")


def test_ncrontab_has_seconds_first() -> None:
    start = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert next_occurrence("30 * * * * *", start) == datetime(2026, 1, 1, 0, 0, 30, tzinfo=timezone.utc)
    assert next_occurrence("0 */5 * * * *", start) == datetime(2026, 1, 1, 0, 5, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        next_occurrence("* * * * *", start)


def test_host_json_values_can_be_overridden_by_app_settings(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.localhost.app_settings import load_host_json

    (tmp_path / "host.json").write_text('{"extensions": {"queues": {"visibilityTimeout": "00:00:10"}}}')
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__queues__visibilityTimeout", "00:00:00")
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__queues__maxDequeueCount", "2")
    config = load_host_json(tmp_path)
    assert config["extensions"]["queues"] == {"visibilityTimeout": "00:00:00", "maxDequeueCount": "2"}
