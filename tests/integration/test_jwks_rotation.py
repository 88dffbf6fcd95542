"""The issuer's key set over real HTTP on loopback: rotation without restart, one fetch per
cache period under load, and a 503 when the key set cannot be had."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.auth import tokens as auth
from shared.auth import jwks
from tests.support.clock import FakeClockFactory
from tests.support.loopback import LoopbackServer, unused_port
from tests.support.tokens import TokenIssuer

JWKS_PATH = "/.well-known/jwks.json"

# The key cache steps through its periods on a FakeClock (fake_clock(jwks)), without sleeping.
pytestmark = pytest.mark.usefixtures("fresh_key_sets")


@pytest.fixture
def issuer(tmp_path: Path) -> TokenIssuer:
    return TokenIssuer(tmp_path / "issuer")


@pytest.fixture
def server(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch):
    with LoopbackServer() as running:
        running.route(JWKS_PATH, lambda: (200, issuer.jwks()))
        for name, value in issuer.env(jwks=running.url(JWKS_PATH)).items():
            monkeypatch.setenv(name, value)
        yield running


def _status(token: str) -> int:
    try:
        auth.authenticate(f"Bearer {token}")
    except Exception as exc:  # noqa: BLE001 - map as the HTTP wrapper does
        return getattr(exc, "http_status", None) or getattr(exc, "status", 500)
    return 200


def test_rotated_key_is_accepted_without_restart(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    assert _status(issuer.altinn_token()) == 200
    assert server.count(JWKS_PATH) == 1

    old_token = issuer.altinn_token()
    issuer.rotate(keep_old=True)
    new_token = issuer.maskinporten_token()

    # Within the miss interval an unknown kid does not reach the issuer again.
    clock.advance(jwks.UNKNOWN_KID_REFETCH_SECONDS / 2)
    assert _status(new_token) == 401
    assert server.count(JWKS_PATH) == 1

    clock.advance(jwks.UNKNOWN_KID_REFETCH_SECONDS)
    assert _status(new_token) == 200
    assert _status(old_token) == 200  # the old key is still published
    assert server.count(JWKS_PATH) == 2


def test_key_removed_from_the_set_stops_working_after_a_cache_period(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    old_token = issuer.altinn_token()
    assert _status(old_token) == 200
    issuer.rotate(keep_old=False)
    assert _status(old_token) == 200  # cached keys are trusted for the cache period
    clock.advance(jwks.KEY_SET_LIFETIME_SECONDS + 1)
    assert _status(old_token) == 401
    assert _status(issuer.altinn_token()) == 200
    assert server.count(JWKS_PATH) == 2


def test_unknown_kid_flood_fetches_at_most_once_per_interval(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    assert _status(issuer.altinn_token()) == 200
    clock.advance(jwks.UNKNOWN_KID_REFETCH_SECONDS + 1)
    bogus = [issuer.sign(issuer.altinn_claims(), headers={"kid": f"made-up-{n}"}) for n in range(50)]
    assert {_status(token) for token in bogus} == {401}
    assert server.count(JWKS_PATH) == 2


def _slow_jwks(issuer: TokenIssuer):
    """Serve slowly, so that concurrent validations really overlap the fetch."""

    def handler():
        time.sleep(0.3)
        return 200, issuer.jwks()

    return handler


def test_concurrent_validations_fetch_the_key_set_once(issuer: TokenIssuer, server: LoopbackServer) -> None:
    server.route(JWKS_PATH, _slow_jwks(issuer))
    tokens = [issuer.altinn_token() if n % 2 else issuer.maskinporten_token() for n in range(200)]
    start = threading.Barrier(50)

    def validate(token: str) -> int:
        try:
            start.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        return _status(token)

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(validate, tokens))
    assert statuses == [200] * 200
    # Both issuers share this key set URL, so one cache and one fetch serve them all.
    assert server.count(JWKS_PATH) == 1


def test_concurrent_validations_after_rotation_refetch_once(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    assert _status(issuer.altinn_token()) == 200
    issuer.rotate()
    server.route(JWKS_PATH, _slow_jwks(issuer))
    clock.advance(jwks.UNKNOWN_KID_REFETCH_SECONDS + 1)
    tokens = [issuer.altinn_token() for _ in range(200)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(_status, tokens))
    assert statuses == [200] * 200
    assert server.count(JWKS_PATH) == 2


def test_key_set_server_down_is_503(issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in issuer.env(jwks=f"http://127.0.0.1:{unused_port()}/jwks.json").items():
        monkeypatch.setenv(name, value)
    assert _status(issuer.altinn_token()) == 503


@pytest.mark.parametrize("status", [500, 404])
def test_key_set_server_error_is_503(issuer: TokenIssuer, server: LoopbackServer, status: int) -> None:
    server.route(JWKS_PATH, lambda: (status, {"error": "nope"}))
    assert _status(issuer.altinn_token()) == 503


def test_failed_fetch_is_not_retried_at_once(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    server.route(JWKS_PATH, lambda: (500, None))
    assert _status(issuer.altinn_token()) == 503
    assert _status(issuer.altinn_token()) == 503
    assert server.count(JWKS_PATH) == 1  # backing off: requests do not each wait on a fetch
    server.route(JWKS_PATH, lambda: (200, issuer.jwks()))
    clock.advance(jwks.FETCH_FAILURE_BACKOFF_SECONDS + 1)
    assert _status(issuer.altinn_token()) == 200
    assert server.count(JWKS_PATH) == 2


def test_outage_after_a_fetch_keeps_the_cached_keys_for_a_while(
    issuer: TokenIssuer, server: LoopbackServer, fake_clock: FakeClockFactory
) -> None:
    clock = fake_clock(jwks)
    assert _status(issuer.altinn_token()) == 200
    server.route(JWKS_PATH, lambda: (503, None))
    clock.advance(jwks.KEY_SET_LIFETIME_SECONDS + 1)
    assert _status(issuer.altinn_token()) == 200  # stale but recent keys still verify
    clock.advance(jwks.STALE_KEYS_MAX_AGE_SECONDS)
    assert _status(issuer.altinn_token()) == 503
