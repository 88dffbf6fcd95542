"""Request builders shared by tests: the upstream baseline valid request (behaviour §8.2).

``baseline_request()`` returns a fresh dict each call (mutate it freely); ``with_path`` sets a
nested value by a dotted path, creating objects as needed.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

BASELINE_BODY = (
    "# heading /n __bold__ /n **strong**/n [a link](www.test.no) /n ![an image](www.test.no) "
    "/n ```code``` /n > quote /n - item /n 1. item /n [x] done /n ## h2 /n ###### h6 /n "
    "+ item /n * item"
)
ORGANIZATION = "urn:altinn:organization:identifier-no:991825827"

# Valid synthetic national identity numbers (behaviour §3.2).
VALID_PERSONS = ("07827199405", "26818099001", "08900499559", "10108000398", "04825999731")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def future_iso(days: float = 7) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


_BASELINE: dict[str, Any] = {
    "correspondence": {
        "resourceId": "1",
        "sender": "urn:altinn:organization:identifier-no:991825827",
        "sendersReference": "1",
        "content": {
            "language": "nb",
            "messageTitle": "test",
            "messageSummary": "test",
            "messageBody": BASELINE_BODY,
            "attachments": [],
        },
        "requestedPublishTime": None,  # filled with "now" by baseline_request()
        "propertyList": {"deserunt_12": "1", "culpa_852": "2", "anim5": "3"},
        "replyOptions": [],
        "ignoreReservation": False,
        "isConfirmationNeeded": False,
        "isConfidential": False,
        "allowForwarding": False,
    },
    "recipients": [ORGANIZATION],
    "existingAttachments": [],
}


def baseline_request(**overrides: Any) -> dict[str, Any]:
    """The upstream baseline request; keyword overrides use dotted paths with ``__``, e.g.
    ``baseline_request(correspondence__content__messageTitle="x", recipients=[...])``."""
    request = copy.deepcopy(_BASELINE)
    request["correspondence"]["requestedPublishTime"] = now_iso()
    for key, value in overrides.items():
        with_path(request, key.replace("__", "."), value)
    return request


def with_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set ``data[a][b][c] = value`` for ``path`` ``"a.b.c"``; returns ``data``."""
    parts = path.split(".")
    target = data
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return data


def notification(**fields: Any) -> dict[str, Any]:
    """A valid CustomMessage e-mail notification, with overrides."""
    result: dict[str, Any] = {
        "notificationTemplate": 0,
        "emailSubject": "Subject",
        "emailBody": "Body",
        "notificationChannel": 0,
    }
    result.update(fields)
    return result


def many_recipients(count: int) -> list[str]:
    """``count`` distinct organisation recipients (organisation numbers have no check digit)."""
    return [f"urn:altinn:organization:identifier-no:{310_000_000 + index}" for index in range(count)]
