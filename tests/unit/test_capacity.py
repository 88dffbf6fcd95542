"""The request path first: admission of requests, and background work that yields to them."""

from __future__ import annotations

import threading
import time

import azure.functions as func
import pytest

from shared.api.http import RequestContext, api, json_response
from shared.core.capacity import Capacity, Saturated


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("MAX_CONCURRENT_REQUESTS", "4")
    monkeypatch.setenv("ADMISSION_WAIT_SECONDS", "0.3")
    monkeypatch.setenv("PUBLISH_CONCURRENCY", "3")
    monkeypatch.setenv("PUBLISH_BUSY_SPACING_MS", "200")


def test_a_request_beyond_capacity_waits_briefly_then_is_refused(settings) -> None:
    gauge = Capacity()
    with gauge.request(), gauge.request(), gauge.request(), gauge.request():
        started = time.monotonic()
        with pytest.raises(Saturated):
            with gauge.request():
                pass
        assert 0.25 < time.monotonic() - started < 1.0
    with gauge.request():  # capacity came back
        assert gauge.requests == 1


def test_a_waiting_request_gets_the_slot_a_finished_one_frees(settings) -> None:
    gauge = Capacity()
    release = threading.Event()

    def hold() -> None:
        with gauge.request():
            release.wait()

    holders = [threading.Thread(target=hold) for _ in range(4)]
    for holder in holders:
        holder.start()
    while gauge.requests < 4:
        time.sleep(0.01)
    threading.Timer(0.1, release.set).start()
    with gauge.request():  # admitted within the wait
        pass
    for holder in holders:
        holder.join()


def test_background_work_yields_to_a_busy_request_path_but_never_stops(settings) -> None:
    gauge = Capacity()
    assert gauge._background_limit() == 3
    with gauge.request():  # a quarter of the request capacity in use: busy
        assert gauge._background_limit() == 1
        with gauge.background_work():
            blocked = threading.Event()
            done = threading.Event()

            def second() -> None:
                blocked.set()
                with gauge.background_work():
                    done.set()

            worker = threading.Thread(target=second)
            worker.start()
            blocked.wait()
            assert not done.wait(0.3)  # one unit at a time while requests run
        assert done.wait(1.0)  # and the next one runs as soon as the first ends
        worker.join()


def test_the_wrapper_answers_503_with_retry_after_at_once_when_saturated(settings, monkeypatch) -> None:
    from shared.api import http

    gauge = Capacity()
    monkeypatch.setattr(http, "capacity", gauge)
    gate = threading.Event()

    @api(consumes=None, authenticate=False)
    def slow(ctx: RequestContext) -> func.HttpResponse:
        gate.wait()
        return json_response({"ok": True})

    request = func.HttpRequest(method="GET", url="http://localhost/x", headers={}, body=b"")
    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(request))) for _ in range(4)]
    for thread in threads:
        thread.start()
    while gauge.requests < 4:
        time.sleep(0.01)
    started = time.monotonic()
    refused = slow(request)
    assert time.monotonic() - started < 1.0
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    gate.set()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 4


def test_while_the_api_is_busy_background_units_start_spaced_apart(settings) -> None:
    gauge = Capacity()
    starts = []
    with gauge.request():  # busy
        for _ in range(3):
            with gauge.background_work():
                starts.append(time.monotonic())
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.19 for gap in gaps), gaps
    starts.clear()
    for _ in range(3):  # idle: no spacing
        with gauge.background_work():
            starts.append(time.monotonic())
    assert starts[-1] - starts[0] < 0.1
