"""Schemathesis hooks for tests/e2e/test_fuzz.py (loaded with SCHEMATHESIS_HOOKS).

One extra check: every error answer (4xx/5xx) is an RFC 9457 problem document, except 406,
which is upstream's plain-text sentence (behaviour §5.3).
"""

from __future__ import annotations

import atexit
import json
import os
from collections import Counter

import schemathesis

PROBLEM = "application/problem+json"
# Responses this check looked at, by status; written to FUZZ_HOOK_TALLY at exit, so the test
# knows the check ran (a hook that silently failed to load would check nothing).
_tally: Counter[str] = Counter()


@atexit.register
def _write_tally() -> None:
    path = os.environ.get("FUZZ_HOOK_TALLY")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(_tally), handle)


@schemathesis.check
def problem_details_on_errors(ctx, response, case):
    status = response.status_code
    _tally[str(status)] += 1
    if status < 400 or status == 406:
        return None
    media = (response.headers.get("content-type") or [""])[0].split(";", 1)[0].strip().lower()
    if media != PROBLEM:
        raise AssertionError(f"{status} answered with Content-Type {media or '(none)'}, not {PROBLEM}")
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        raise AssertionError(f"{status} answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} answered with a JSON {type(body).__name__}, not a problem object")
    missing = [name for name in ("type", "title", "status") if name not in body]
    if missing:
        raise AssertionError(f"{status} problem body lacks {', '.join(missing)}")
    if body["status"] != status:
        raise AssertionError(f"problem body says status {body['status']}, the response {status}")
    if "errorCode" in body and not (isinstance(body["errorCode"], int) and str(body.get("code", "")).startswith("CORR-")):
        raise AssertionError("business problem with a malformed errorCode/code")
    return None
