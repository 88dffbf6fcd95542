"""Fuzzing: schemathesis against the real app on the local host, with a valid sender token.

Every operation of ``shared/api/openapi.json`` gets its examples, the coverage phase's boundary
and invalid values, random valid and invalid requests, and stateful sequences that follow the
document's links (initialize attachment -> upload/get/download/purge; initialize
correspondence -> get). Every check schemathesis has except ``positive_data_acceptance`` (a
schema-valid request may still break a business rule: 400 with an errorCode is right), plus
``fuzz_hooks.problem_details_on_errors``:

* no 5xx (``not_a_server_error``);
* every status, content type, header and body conforms to the document (problem bodies
  included: the document declares them for every error status);
* every 4xx/5xx is ``application/problem+json`` with type/title/status (406 excepted);
* schema-invalid requests are refused, requests without the token get 401, undeclared methods
  405, and so on.

Bounded in ``make test`` (``FUZZ_MAX_EXAMPLES``, default 5 per operation and phase, a fixed
seed); ``make fuzz`` runs it with more examples and a time budget (``FUZZ_MAX_TIME``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "shared" / "api" / "openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES") or 5)
MAX_TIME = os.environ.get("FUZZ_MAX_TIME")  # seconds; unset: bounded by the example count
SEED = os.environ.get("FUZZ_SEED") or "20240610"
REPORT_DIR = os.environ.get("FUZZ_REPORT_DIR")  # keep the reports (make fuzz)


def _st() -> str:
    candidate = Path(sys.executable).with_name("st")
    return str(candidate) if candidate.exists() else "st"


def _summarise(ndjson: Path) -> dict[str, object]:
    """Requests sent and statuses seen, from schemathesis' NDJSON event stream."""
    statuses: dict[str, int] = {}
    requests = 0
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        if '"ScenarioFinished"' not in line:
            continue
        event = json.loads(line).get("ScenarioFinished", {})
        for interaction in (event.get("recorder", {}).get("interactions") or {}).values():
            response = interaction.get("response")
            requests += 1
            key = str(response["status_code"]) if response else "no response"
            statuses[key] = statuses.get(key, 0) + 1
    return {"requests": requests, "statuses": dict(sorted(statuses.items()))}


@pytest.mark.timeout(0 if MAX_TIME else 600)
def test_fuzz_every_operation(local_app, token_issuer, tmp_path: Path) -> None:
    report_dir = Path(REPORT_DIR).resolve() if REPORT_DIR else tmp_path
    report_dir.mkdir(parents=True, exist_ok=True)
    lifetime = int(MAX_TIME or 0) + 3600
    token = token_issuer.altinn_token(exp=int(time.time()) + lifetime)
    command = [
        _st(), "--config-file", str(CONFIG), "run", str(DOCUMENT),
        "--url", local_app.url,
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", SEED,
        "--workers", "1",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report", "junit,ndjson",
        "--report-dir", str(report_dir),
        "--output-truncate", "true",
    ]
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]
    tally = report_dir / "problem-check-tally.json"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
        "FUZZ_HOOK_TALLY": str(tally),
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    result = subprocess.run(command, cwd=report_dir, env=env, capture_output=True, text=True, timeout=None if MAX_TIME else 540)
    elapsed = time.monotonic() - started
    ndjson = next(report_dir.glob("*.ndjson"), None)
    summary = _summarise(ndjson) if ndjson else {}
    print(f"schemathesis: {elapsed:.0f} s, {summary}")
    print(result.stdout[-6000:])
    assert result.returncode == 0, f"schemathesis found problems:\n{result.stdout[-20000:]}\n{result.stderr[-3000:]}"
    statuses = summary.get("statuses", {})
    assert not any(status.startswith("5") for status in statuses), statuses
    checked = json.loads(tally.read_text(encoding="utf-8")) if tally.exists() else {}
    print(f"problem-details check: {sum(checked.values())} responses, {dict(sorted(checked.items()))}")
    assert sum(n for status, n in checked.items() if int(status) >= 400) > 0, "the problem-details check did not run"
