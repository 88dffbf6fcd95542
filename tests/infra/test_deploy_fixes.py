"""Issue #21 ("Deployment that works the first time"): one check per finding, on today's templates.

Each check is also run against the templates as they were before the fix (commit d76df9f, from
git history), where it must report the finding: proof that the check can see it.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import io
from pathlib import Path
from typing import Any

import pytest

from tests.infra import infra_checks as ic

BEFORE_FIX = "d76df9f"


# --- the rows, on today's templates ----------------------------------------------------------

def test_row1_no_ftps_or_other_deprecated_site_setting_on_flex(parsed: dict[str, Any]) -> None:
    assert ic.check_flex_site_config(parsed) == []
    assert "ftpsState" not in (ic.INFRA / "modules" / "functionapp.bicep").read_text().split("//checkov")[0]


def test_row2_scan_mode_is_one_switch_that_stays_defender(parsed: dict[str, Any]) -> None:
    assert ic.check_scan_mode(parsed) == []
    assert ic.check_deploy_workflow(ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")) == []


def test_row3_one_parameters_file_and_the_azd_hook() -> None:
    assert ic.check_parameter_files(ic.INFRA, ic.load_yaml(ic.ROOT / "azure.yaml")) == []


def test_row4_the_workflow_runs_the_same_waiting_script(parsed: dict[str, Any]) -> None:
    workflow = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")
    assert ic.check_deploy_workflow(workflow) == []
    hook = ic.load_yaml(ic.ROOT / "azure.yaml")["hooks"]["postdeploy"]["run"]
    runs = [s.get("run", "") for s in workflow["jobs"]["deploy"]["steps"]]
    assert any(hook in run for run in runs)
    # The script's behaviour (waiting, retries, deadline) is tested in test_hooks.py.


def test_row5_dead_letters_are_kept_by_the_topic_identity_and_alerted(parsed: dict[str, Any]) -> None:
    assert ic.check_dead_letter(parsed) == []
    assert ic.check_role_assignments(parsed) == []


def test_row6_topic_local_auth_off_and_no_stale_comments(parsed: dict[str, Any], texts: dict[str, str]) -> None:
    assert ic.check_topic_local_auth(parsed) == []
    assert ic.check_stale_text(texts) == []
    docs = {"docs/deploy.md": (ic.ROOT / "docs" / "deploy.md").read_text(),
            "azure.yaml": (ic.ROOT / "azure.yaml").read_text()}
    assert ic.check_stale_text(docs) == []


def test_event_grid_delivers_with_an_entra_id_token_and_the_function_key(parsed: dict[str, Any]) -> None:
    assert ic.check_webhook_entra_delivery(parsed) == []
    assert ic.check_malware_scanning(parsed) == []


def test_app_gets_the_storage_account_id_for_scan_result_verification(parsed: dict[str, Any]) -> None:
    assert ic.check_scan_storage_account_setting(parsed) == []


def test_app_identity_may_get_a_user_delegation_key_at_account_scope_only(parsed: dict[str, Any]) -> None:
    rbac = parsed["modules/rbac.bicep"]
    assert rbac["variables"]["storageBlobDelegator"]["value"] == "db58b8e5-c6ad-4a2a-8342-4190687cbf4a"
    grants = [ic.config(res) for _, _, res in ic.resources(parsed, "Microsoft.Authorization/roleAssignments")
              if "storageBlobDelegator" in str(ic.config(res)["properties"]["roleDefinitionId"])]
    assert len(grants) == 1
    assert grants[0]["scope"] == "storage" and grants[0]["properties"]["principalId"] == "principalId"
    assert ic.check_role_assignments(parsed) == []


# --- the same checks on the templates before the fix -----------------------------------------

def _before_fix(tmp: Path) -> Path | None:
    git = shutil.which("git")
    if git is None:
        return None
    out = subprocess.run([git, "archive", BEFORE_FIX, "infra", "azure.yaml", ".github"], cwd=ic.ROOT,
                         capture_output=True, timeout=60)
    if out.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as archive:
        archive.extractall(tmp, filter="data")
    return tmp


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = _before_fix(tmp_path_factory.mktemp("before-fix"))
    if root is None:
        pytest.skip(f"commit {BEFORE_FIX} (the templates before issue #21) is not in this clone's history")
    infra = root / "infra"
    return {"root": root, "infra": infra, "parsed": ic.parse_bicep(infra), "texts": ic.read_texts(infra)}


def _mentions(problems: list[str], *words: str) -> bool:
    return any(all(w.lower() in p.lower() for w in words) for p in problems)


def test_the_checks_report_every_row_on_the_templates_before_the_fix(before: dict[str, Any]) -> None:
    parsed, texts, infra, root = before["parsed"], before["texts"], before["infra"], before["root"]
    workflow = ic.load_yaml(root / ".github" / "workflows" / "deploy.yml")
    assert _mentions(ic.check_flex_site_config(parsed), "ftpsState")                        # row 1
    assert _mentions(ic.check_scan_mode(parsed), "malwareScanWebhook")                       # row 2
    assert _mentions(ic.check_deploy_workflow(workflow), "overrides MALWARE_SCAN_WEBHOOK")   # row 2
    assert _mentions(ic.check_parameter_files(infra, ic.load_yaml(root / "azure.yaml")),
                     "main.parameters.json")                                                # row 3
    assert _mentions(ic.check_parameter_files(infra, ic.load_yaml(root / "azure.yaml")),
                     "postdeploy hook")                                                     # row 3
    assert _mentions(ic.check_deploy_workflow(workflow), "subscribe-scan-webhook.sh")        # row 4
    assert _mentions(ic.check_dead_letter(parsed), "no dead-letter destination")            # row 5
    assert _mentions(ic.check_dead_letter(parsed), "DeadLetteredCount")                      # row 5
    assert _mentions(ic.check_topic_local_auth(parsed), "disableLocalAuth")                  # row 6
    assert _mentions(ic.check_stale_text(texts), "uses no tables")                           # row 6
    assert _mentions(ic.check_stale_text(texts), "is not a Flex Consumption setting")        # row 6
    assert _mentions(ic.check_webhook_entra_delivery(parsed), "azureActiveDirectoryApplicationIdOrUri")
    assert _mentions(ic.check_scan_storage_account_setting(parsed), "MALWARE_SCAN_STORAGE_ACCOUNT_ID")
    assert _mentions(ic.check_role_assignments(parsed), "Storage Blob Delegator is not assigned")
