"""A stand-in for the Azure CLI, for tests/infra/test_hooks.py only.

It answers the few `az` commands infra/hooks/subscribe-scan-webhook.sh runs, following a
scenario in $FAKE_AZ_STATE/scenario.json, logs every call to calls.jsonl and keeps counters
between calls in the same folder. Scenario keys (all optional):
  signed_in (true), topic_exists (true), function_missing_times (0), keys_empty_times (0),
  deploy_failures (0), states (["Succeeded"]: provisioningState per deployment), secret.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_AZ_STATE"])
SCENARIO = json.loads((STATE / "scenario.json").read_text())


def counter(name: str) -> int:
    """Increments and returns how often `name` happened before this call."""
    path = STATE / f"{name}.count"
    seen = int(path.read_text()) if path.exists() else 0
    path.write_text(str(seen + 1))
    return seen


def arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def main(args: list[str]) -> int:
    with (STATE / "calls.jsonl").open("a") as log:
        log.write(json.dumps(args) + "\n")
    words = [a for a in args[:3] if not a.startswith("-")]
    if words[:2] == ["account", "show"]:
        if not SCENARIO.get("signed_in", True):
            print("ERROR: Please run 'az login' to setup account.", file=sys.stderr)
            return 1
        print("00000000-0000-0000-0000-000000000000")
        return 0
    if words[:3] == ["eventgrid", "topic", "show"]:
        if not SCENARIO.get("topic_exists", True):
            print(f"ERROR: (ResourceNotFound) The Resource '{arg(args, '--name')}' was not found.", file=sys.stderr)
            return 3
        print(f"/subscriptions/s/resourceGroups/{arg(args, '--resource-group')}"
              f"/providers/Microsoft.EventGrid/topics/{arg(args, '--name')}")
        return 0
    if words[:3] == ["functionapp", "function", "show"]:
        if counter("function_show") < SCENARIO.get("function_missing_times", 0):
            print("ERROR: (NotFound) Error retrieving function.", file=sys.stderr)
            return 3
        print(f"{arg(args, '--name')}/{arg(args, '--function-name')}")
        return 0
    if words[:3] == ["functionapp", "function", "keys"]:
        if arg(args, "--query") != "length(@)":
            print("fake az: the script must not read key values", file=sys.stderr)
            return 9
        print(0 if counter("keys") < SCENARIO.get("keys_empty_times", 0) else 1)
        return 0
    if words[:3] == ["deployment", "group", "create"]:
        attempt = counter("deploy")
        if attempt < SCENARIO.get("deploy_failures", 0):
            print("ERROR: {\"code\": \"DeploymentFailed\", \"details\": [{\"code\": \"Url validation\", "
                  "\"message\": \"Webhook validation handshake failed for https://func-corr-abc.azurewebsites.net/"
                  f"correspondence/api/v1/webhooks/malwarescanresults?code={SCENARIO['secret']}. Http POST request "
                  "failed with response code Unknown.\"}]}", file=sys.stderr)
            return 1
        sub = STATE / "subscription.json"
        record = json.loads(sub.read_text()) if sub.exists() else {"puts": 0}
        record["puts"] += 1
        states = SCENARIO.get("states", ["Succeeded"])
        record["state"] = states[min(attempt - SCENARIO.get("deploy_failures", 0), len(states) - 1)]
        sub.write_text(json.dumps(record))
        return 0
    if words[:3] == ["eventgrid", "event-subscription", "show"]:
        sub = STATE / "subscription.json"
        if not sub.exists():
            print("ERROR: (ResourceNotFound)", file=sys.stderr)
            return 3
        print(json.loads(sub.read_text())["state"])
        return 0
    print(f"fake az: unexpected command {args}", file=sys.stderr)
    return 99


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
