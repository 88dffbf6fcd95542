"""Correspondence ids that lead back to their request: one read finds any correspondence.

A request of n recipients stores its state once (``shared.storage.request_states``), so a
correspondence is a position in its request, not a document of its own. Its id is therefore an
encoding of (request key, position): a 112-bit random request key and a 10-bit index form a
122-bit value, which a keyed permutation scrambles into the 122 free bits of a version-5 UUID
(the 6 version and variant bits fixed, like the uuid5 ids of earlier versions).

The permutation is a four-round Feistel network whose round function is keyed BLAKE2b
(Luby-Rackoff: a pseudorandom permutation as long as the key is secret). Without the key the
ids of one request look unrelated and random, as before; with it, ``decode`` gives the request
key and position back. The key is 32 random bytes the app creates in its own storage account on
first use (``shared.storage.id_key``): nothing to configure, nothing in app settings.

Ids that do not decode (another version, a foreign GUID) name no correspondence.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

REQUEST_KEY_BITS = 112
INDEX_BITS = 10
MAX_RECIPIENTS_PER_REQUEST = 1 << INDEX_BITS  # 1024 > upstream's 500
_HALF = 61  # 122 = 2 x 61
_MASK = (1 << _HALF) - 1
_ROUNDS = 4
_PERSON = [f"corr-id-{n}".encode() for n in range(_ROUNDS)]


def new_request_key() -> int:
    return secrets.randbits(REQUEST_KEY_BITS)


def request_name(request_key: int) -> str:
    """The request key as stored (28 lower-case hex digits)."""
    return f"{request_key:028x}"


def parse_request_name(name: str) -> int:
    return int(name, 16)


def _round(key: bytes, round_number: int, half: int) -> int:
    # Keyed BLAKE2b is a pseudorandom function by design (RFC 7693), and fast.
    digest = hashlib.blake2b(half.to_bytes(8, "big"), key=key, digest_size=8, person=_PERSON[round_number]).digest()
    return int.from_bytes(digest, "big") & _MASK


def _permute(key: bytes, value: int) -> int:
    left, right = value >> _HALF, value & _MASK
    for round_number in range(_ROUNDS):
        left, right = right, left ^ _round(key, round_number, right)
    return (left << _HALF) | right


def _unpermute(key: bytes, value: int) -> int:
    left, right = value >> _HALF, value & _MASK
    for round_number in reversed(range(_ROUNDS)):
        left, right = right ^ _round(key, round_number, left), left
    return (left << _HALF) | right


def _to_uuid(payload: int) -> uuid.UUID:
    """122 bits into a version-5, RFC 4122 variant UUID (the layout of uuid.uuid5's)."""
    top = payload >> 74  # 48 bits: time_low + time_mid
    middle = (payload >> 62) & 0xFFF  # 12 bits beside the version nibble
    bottom = payload & ((1 << 62) - 1)  # 62 bits after the variant
    return uuid.UUID(int=(top << 80) | (0x5 << 76) | (middle << 64) | (0b10 << 62) | bottom)


def _from_uuid(value: uuid.UUID) -> int | None:
    number = value.int
    if (number >> 76) & 0xF != 0x5 or (number >> 62) & 0b11 != 0b10:
        return None
    return ((number >> 80) << 74) | (((number >> 64) & 0xFFF) << 62) | (number & ((1 << 62) - 1))


def encode(key: bytes, request_key: int, index: int) -> uuid.UUID:
    if not 0 <= index < MAX_RECIPIENTS_PER_REQUEST or not 0 <= request_key < (1 << REQUEST_KEY_BITS):
        raise ValueError("request key or index out of range")
    return _to_uuid(_permute(key, (request_key << INDEX_BITS) | index))


def ids_of(key: bytes, request_key: int, count: int) -> list[uuid.UUID]:
    return [encode(key, request_key, index) for index in range(count)]


def decode(key: bytes, correspondence_id: uuid.UUID) -> tuple[int, int] | None:
    """(request key, index), or None when the id is not one of ours."""
    payload = _from_uuid(correspondence_id)
    if payload is None:
        return None
    value = _unpermute(key, payload)
    return value >> INDEX_BITS, value & (MAX_RECIPIENTS_PER_REQUEST - 1)
