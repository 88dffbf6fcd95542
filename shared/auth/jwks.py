"""Signing keys of the trusted token issuers: fetched, cached and refreshed on rotation.

A key set source is an http(s) URL or a local file path (relative paths resolve against the
current directory, which is the repository root for ``make run`` and the Functions host).
PyJWT parses the JWKS document; this module only decides when to fetch it.

Caching rules, per source:

* A fetched key set is used for ``KEY_SET_LIFETIME_SECONDS``, then fetched again.
* A token naming an unknown ``kid`` triggers a refetch (the issuer may have rotated its keys),
  at most once per ``UNKNOWN_KID_REFETCH_SECONDS``, so a flood of made-up ``kid`` values
  cannot turn us into a load generator against the issuer.
* A failed fetch is not retried for ``FETCH_FAILURE_BACKOFF_SECONDS`` (each request would
  otherwise wait for the timeout); meanwhile keys fetched earlier stay in use for up to
  ``STALE_KEYS_MAX_AGE_SECONDS``, so a short outage at the issuer does not take us down.
* One lock per source is held while fetching: under load, concurrent requests wait for the
  one fetch in flight instead of starting their own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import jwt

logger = logging.getLogger(__name__)

KEY_SET_LIFETIME_SECONDS = 600.0
UNKNOWN_KID_REFETCH_SECONDS = 60.0
# Reading a local file is cheap, and developers regenerate dev keys while the host runs.
UNKNOWN_KID_REFETCH_SECONDS_FILE = 1.0
FETCH_FAILURE_BACKOFF_SECONDS = 5.0
STALE_KEYS_MAX_AGE_SECONDS = 3600.0
FETCH_TIMEOUT_SECONDS = 5.0
# Real key sets are a few KB; refuse to buffer something absurd from a misconfigured URL.
MAX_KEY_SET_BYTES = 1024 * 1024

# The cache's clock; tests replace it to step through cache periods without sleeping.
clock = time.monotonic


class KeySetUnavailable(Exception):
    """The key set cannot be fetched or parsed: our (or the issuer's) fault, not the caller's."""

    http_status = 503
    public_detail = "The token signing keys cannot be fetched right now. Retry later."
    headers: dict[str, str] = {}


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _read_source(source: str) -> bytes:
    if is_url(source):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})
        # Only http(s) sources reach here (is_url); a file path is opened as a file instead.
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # nosec B310
            return response.read(MAX_KEY_SET_BYTES + 1)
    with open(source, "rb") as handle:
        return handle.read(MAX_KEY_SET_BYTES + 1)


def _load_signing_keys(source: str) -> dict[str | None, jwt.PyJWK]:
    """RSA signature keys by ``kid``; anything else in the set (enc, EC, oct) is ignored."""
    try:
        raw = _read_source(source)
        if len(raw) > MAX_KEY_SET_BYTES:
            raise ValueError("key set too large")
        key_set = jwt.PyJWKSet.from_dict(json.loads(raw))
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        # urllib errors are OSErrors; the exception text may hold the URL, so log the type only.
        logger.warning("key set fetch failed (%s)", type(exc).__name__)
        raise KeySetUnavailable() from exc
    keys = {
        key.key_id: key
        for key in key_set.keys
        if key.key_type == "RSA" and key.public_key_use in ("sig", None)
    }
    if not keys:
        logger.warning("key set has no RSA signature keys")
        raise KeySetUnavailable()
    return keys


@dataclass
class KeySet:
    """The cached key set of one source. Thread safe."""

    source: str
    keys: dict[str | None, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None  # monotonic time of the last successful fetch
    attempted_at: float | None = None  # monotonic time of the last fetch, failed or not
    last_fetch_failed: bool = False
    fetch_count: int = 0  # for tests and diagnostics
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def unknown_kid_interval(self) -> float:
        return UNKNOWN_KID_REFETCH_SECONDS if is_url(self.source) else UNKNOWN_KID_REFETCH_SECONDS_FILE

    def signing_key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key a token names, or ``None`` when the issuer has no such key.

        A token without ``kid`` may use the only key of a one-key set. Raises
        ``KeySetUnavailable`` when no usable key set can be had.
        """
        with self._lock:
            now = clock()
            if self.fetched_at is None or now - self.fetched_at >= KEY_SET_LIFETIME_SECONDS:
                if not self._backing_off(now):
                    self._fetch(now)
                if not self._usable(now):
                    raise KeySetUnavailable()
            key = self._find(kid)
            if key is None and now - (self.attempted_at or 0.0) >= self.unknown_kid_interval:
                logger.info("unknown key id, refetching key set")
                self._fetch(now)  # on failure the keys we have stay in use
                key = self._find(kid)
            return key

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self.keys.values())) if len(self.keys) == 1 else None
        return self.keys.get(kid)

    def _fetch(self, now: float) -> None:
        self.attempted_at = now
        self.fetch_count += 1
        try:
            self.keys = _load_signing_keys(self.source)
        except KeySetUnavailable:
            self.last_fetch_failed = True
            return
        self.fetched_at = now
        self.last_fetch_failed = False

    def _backing_off(self, now: float) -> bool:
        return (
            self.last_fetch_failed
            and self.attempted_at is not None
            and now - self.attempted_at < FETCH_FAILURE_BACKOFF_SECONDS
        )

    def _usable(self, now: float) -> bool:
        return (
            bool(self.keys)
            and self.fetched_at is not None
            and now - self.fetched_at < STALE_KEYS_MAX_AGE_SECONDS
        )


_key_sets: dict[str, KeySet] = {}
_key_sets_lock = threading.Lock()


def key_set(source: str) -> KeySet:
    """The one cache per source. Keyed by the setting's value, so a changed setting (or a
    test with its own issuer) gets its own cache."""
    with _key_sets_lock:
        cached = _key_sets.get(source)
        if cached is None:
            cached = _key_sets[source] = KeySet(source)
        return cached


def reset_caches() -> None:
    """Forget every cached key set (tests)."""
    with _key_sets_lock:
        _key_sets.clear()
