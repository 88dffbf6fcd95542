"""Load, short (issue 10): ``bench.load`` for 15 seconds with 20 clients through a local host of
its own (its publisher's backlog must not slow other end-to-end tests). Zero errors; the
figures are in the assertion messages (``make load`` runs the two-minute version)."""

from __future__ import annotations

import asyncio

import pytest

from bench.load import INITIALIZE, INITIALIZE_ATTACHMENT, INITIALIZE_WITH_ATTACHMENT, UPLOAD, run_load
from tests.support.app import own_app_host

SECONDS = 15
CLIENTS = 20


@pytest.fixture(scope="module")
def load_host(token_issuer, tmp_path_factory):
    with own_app_host(token_issuer, tmp_path_factory, "load", SERVE_LOG_LEVEL="WARNING") as host:
        yield host


def test_twenty_clients_for_fifteen_seconds_without_an_error(load_host, token_issuer) -> None:
    token = token_issuer.sign(token_issuer.altinn_claims(lifetime=600))
    report = asyncio.run(run_load(load_host.url, token, SECONDS, CLIENTS))
    table = report.table()
    assert report.error_count == 0, table
    for operation in (INITIALIZE, INITIALIZE_ATTACHMENT, UPLOAD, INITIALIZE_WITH_ATTACHMENT):
        assert report.stats(operation)["count"] > 0, table
    print(f"\n{table}")
