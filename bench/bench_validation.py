"""Validating a maximal initialize-correspondence request versus ``json.loads`` of its bytes.

The request has 500 distinct valid recipients (organisations, persons and e-mail URNs), a
30,000-character body, title/summary/messageSender of 255 characters, a 4,096-character
sendersReference, 10 properties at their key/value limits, 10 external references, 100 reply
options (our cap) with 255-character URLs, 100 existing attachments, dates, and a notification
with every text at its limit. One run measures, on the same bytes:

* ``json.loads(raw)``;
* ``parse_initialize_request(data)`` followed by every pure business rule of §3.5.

It prints both times and their ratio (validation time / json.loads time). Usage:

    .venv/bin/python -m bench.bench_validation [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import timeit
import uuid
from datetime import datetime, timedelta, timezone

from shared.rules import initialize as rules
from shared.models.correspondence import parse_initialize_request

GOAL_RATIO = 10.0  # validation may cost at most 10x the JSON decoding of the same bytes


def _identity_number(seed: int) -> str | None:
    digits = f"{seed:09d}"
    weights1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    weights2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

    def check(ds: str, weights: tuple[int, ...]) -> int | None:
        r = 11 - sum(int(d) * w for d, w in zip(ds, weights)) % 11
        return 0 if r == 11 else None if r == 10 else r

    k1 = check(digits, weights1)
    if k1 is None:
        return None
    k2 = check(digits + str(k1), weights2)
    if k2 is None:
        return None
    return f"{digits}{k1}{k2}"


def recipients(count: int = 500) -> list[str]:
    result: list[str] = []
    seed = 10_108_000
    while len(result) < count:
        kind = len(result) % 3
        if kind == 0:
            result.append(f"urn:altinn:organization:identifier-no:{310_000_000 + len(result)}")
        elif kind == 1:
            seed += 1
            number = _identity_number(seed)
            if number:
                result.append(f"urn:altinn:person:identifier-no:{number}")
        else:
            result.append(f"urn:altinn:person:idporten-email:user{len(result)}@example.com")
    return result


def maximal_request() -> dict:
    now = datetime.now(timezone.utc)
    body_line = "Dette er en **viktig** melding med [lenke](https://www.test.no) og `kode`.\n"
    body = (body_line * (30_000 // len(body_line) + 1))[:30_000]
    return {
        "correspondence": {
            "resourceId": "urn:altinn:resource:" + "r" * 235,
            "sendersReference": "s" * 4096,
            "messageSender": ("Avsender AS med et langt navn " * 10)[:255],
            "content": {
                "language": "nb",
                "messageTitle": ("Vedtak i saken om tilskudd for 2025 " * 10)[:255],
                "messageSummary": ("Kort oppsummering av vedtaket " * 10)[:255],
                "messageBody": body,
                "attachments": [],
            },
            "requestedPublishTime": now.isoformat(),
            "dueDateTime": (now + timedelta(days=30)).isoformat(),
            "externalReferences": [
                {"referenceValue": f"ref-{i}", "referenceType": i % 3} for i in range(10)
            ],
            "propertyList": {f"{i:02d}" + "k" * 48: "v" * 300 for i in range(10)},
            "replyOptions": [
                {"linkURL": "https://www.test.no/" + f"{i:03d}" + "p" * 232, "linkText": "Svar"}
                for i in range(100)
            ],
            "notification": {
                "notificationTemplate": 0,
                "emailSubject": "e" * 512,
                "emailBody": "b" * 10_000,
                "emailContentType": 1,
                "smsBody": "m" * 2_144,
                "sendReminder": True,
                "reminderEmailSubject": "e" * 512,
                "reminderEmailBody": "b" * 10_000,
                "reminderEmailContentType": 0,
                "reminderSmsBody": "m" * 2_144,
                "notificationChannel": 4,
                "reminderNotificationChannel": "EmailAndSms",
            },
            "ignoreReservation": False,
            "isConfirmationNeeded": True,
            "isConfidential": False,
            "allowForwarding": False,
        },
        "recipients": recipients(),
        "existingAttachments": [str(uuid.uuid4()) for _ in range(100)],
    }


def validate(data: object) -> None:
    request = parse_initialize_request(data)
    now = datetime.now(timezone.utc)
    rules.check_idempotency_argument(request)
    rules.check_unique_recipients(request)
    rules.check_content_and_references(request, now)
    rules.check_attachment_count(request, len(request.existing_attachments) - 1)
    rules.check_new_attachments_json(request)
    rules.check_reply_options(request)
    rules.check_notification(request)


def _best(statement, number: int, repeat: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    raw = json.dumps(maximal_request()).encode("utf-8")
    data = json.loads(raw)
    validate(data)  # warm up, and prove the request is valid

    loads = _best(lambda: json.loads(raw), 200, args.repeat)
    validation = _best(lambda: validate(data), 50, args.repeat)
    ratio = validation / loads
    print(f"request size           : {len(raw):,} bytes")
    print(f"json.loads             : {loads * 1e6:9.1f} us")
    print(f"parse + pure rules     : {validation * 1e6:9.1f} us")
    print(f"ratio (validation/json): {ratio:9.2f}")
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"goal: ratio <= {GOAL_RATIO:g} -> {verdict}")


if __name__ == "__main__":
    main()
