"""Deliberate regressions in a copy of infra/: the checks must catch each one.

This proves the checks can fail: if a change to the templates or to the checks made them blind,
these tests would go green on a broken template and fail here instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.infra import infra_checks as ic


def broken_copy(tmp_path: Path, path: str, edit: Callable[[str], str]) -> Path:
    target = tmp_path / "infra"
    shutil.copytree(ic.INFRA, target)
    file = target / path
    before = file.read_text(encoding="utf-8")
    after = edit(before)
    assert after != before, "the regression did not change the file"
    file.write_text(after, encoding="utf-8")
    return target


def problems_mentioning(problems: list[str], *words: str) -> list[str]:
    return [p for p in problems if all(w.lower() in p.lower() for w in words)]


def failed_checks(report: dict[str, Any]) -> set[str]:
    return {c["check_id"] for c in report["results"]["failed_checks"]}


def test_shared_key_access_turned_on_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/storage.bicep",
                        lambda s: s.replace("allowSharedKeyAccess: false", "allowSharedKeyAccess: true"))
    assert problems_mentioning(ic.all_template_problems(infra), "allowSharedKeyAccess")
    assert "CKV_CORR_1" in failed_checks(ic.run_checkov(infra))


def test_public_blob_access_turned_on_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/storage.bicep",
                        lambda s: s.replace("allowBlobPublicAccess: false", "allowBlobPublicAccess: true"))
    assert problems_mentioning(ic.all_template_problems(infra), "allowBlobPublicAccess")


KEYED_SETTING = """appSettings: [
        {
          name: 'CorrespondenceStorage'
          value: 'DefaultEndpointsProtocol=https;AccountName=${name};AccountKey=${identityClientId}'
        }"""


def test_key_in_an_app_setting_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/functionapp.bicep",
                        lambda s: s.replace("appSettings: [", KEYED_SETTING, 1))
    problems = ic.all_template_problems(infra)
    assert problems_mentioning(problems, "AccountKey=")
    assert problems_mentioning(problems, "CorrespondenceStorage is a connection string")
    assert "CKV_CORR_3" in failed_checks(ic.run_checkov(infra))


def test_storage_list_keys_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/rbac.bicep",
                        lambda s: s + "\noutput leaked string = storage.listKeys().keys[0].value\n")
    assert problems_mentioning(ic.all_template_problems(infra), "storage.listKeys()")


def test_role_at_resource_group_scope_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/rbac.bicep",
                        lambda s: s.replace("scope: storage\n", "scope: resourceGroup()\n", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "Storage Blob Data Owner must be scoped")


def test_missing_app_setting_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/functionapp.bicep",
                        lambda s: s.replace("name: 'RESOURCE_REGISTRY'", "name: 'RESOURCE_REGISTRY_URL'"))
    assert problems_mentioning(ic.all_template_problems(infra), "RESOURCE_REGISTRY is not provided")


def test_unexplained_skip_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/storage.bicep",
                        lambda s: s.replace("//checkov:skip=CKV_AZURE_206:", "//checkov:skip=CKV_AZURE_206:x\n  //", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "CKV_AZURE_206 needs its reason")


def test_unparsable_bicep_is_caught_not_silently_skipped(tmp_path: Path) -> None:
    # checkov's Bicep parser does not know lambdas: checkov would skip the whole file.
    infra = broken_copy(tmp_path, "modules/storage.bicep",
                        lambda s: s.replace("var queueNames = [",
                                            "var doubled = map([1, 2], x => x * 2)\nvar queueNames = [", 1))
    parsed = ic.parse_bicep(infra)
    assert parsed["modules/storage.bicep"] is None
    assert problems_mentioning(ic.check_parsed_everything(parsed), "modules/storage.bicep", "cannot parse")
    report = ic.run_checkov(infra)
    assert report["summary"]["parsing_errors"] == 1
    assert problems_mentioning(ic.check_checkov_report(report, parsed, ic.read_texts(infra)), "could not parse")


@pytest.mark.parametrize("ci_version", ["3.12", "3.10"])
def test_python_version_drift_is_caught(ci_version: str, parsed: dict[str, Any]) -> None:
    workflow = {"jobs": {"test": {"steps": [{"uses": "actions/setup-python@v5",
                                             "with": {"python-version": ci_version}}]}}}
    assert ic.workflow_python_versions(workflow) != [ic.bicep_python_version(parsed)]


# --- issue #21: each finding, put back into a copy of today's templates ------------------------

def test_ftps_state_put_back_on_flex_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/functionapp.bicep",
                        lambda s: s.replace("      http20Enabled: true", "      ftpsState: 'Disabled'\n      http20Enabled: true", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "siteConfig.ftpsState", "Flex Consumption")


def test_second_scanning_switch_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "main.bicep", lambda s: s.replace(
        "param enableMalwareScanning bool = false",
        "param enableMalwareScanning bool = false\nparam malwareScanWebhook bool = false", 1).replace(
        "var malwareScanMode = enableMalwareScanning ? 'defender' : 'none'",
        "var malwareScanMode = malwareScanWebhook ? 'defender' : 'none'", 1))
    problems = ic.all_template_problems(infra)
    assert problems_mentioning(problems, "malwareScanMode must be")
    assert problems_mentioning(problems, "malwareScanWebhook is a second malware-scanning switch")


def test_workflow_that_turns_scanning_off_for_a_step_fails() -> None:
    workflow = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")
    infra_step = next(s for s in workflow["jobs"]["deploy"]["steps"] if s.get("id") == "infra")
    infra_step["env"] = {"ENABLE_MALWARE_SCANNING": "false"}
    assert problems_mentioning(ic.check_deploy_workflow(workflow), "overrides ENABLE_MALWARE_SCANNING")


def test_workflow_without_the_hook_or_with_a_second_deployment_fails() -> None:
    workflow = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "deploy.yml")
    steps = workflow["jobs"]["deploy"]["steps"]
    hook = next(s for s in steps if "subscribe-scan-webhook.sh" in s.get("run", ""))
    hook["run"] = "az deployment group create --template-file infra/scan-webhook.bicep"
    problems = ic.check_deploy_workflow(workflow)
    assert problems_mentioning(problems, "exactly one `az deployment group create`")
    assert problems_mentioning(problems, "no step runs infra/hooks/subscribe-scan-webhook.sh")


def test_json_parameters_file_next_to_the_bicepparam_fails(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    shutil.copytree(ic.INFRA, infra)
    (infra / "main.parameters.json").write_text("{}")
    assert problems_mentioning(ic.check_parameter_files(infra, ic.load_yaml(ic.ROOT / "azure.yaml")),
                               "main.parameters.json", "dead")


def test_azure_yaml_without_the_hook_fails() -> None:
    azure = ic.load_yaml(ic.ROOT / "azure.yaml")
    azure.pop("hooks")
    assert problems_mentioning(ic.check_parameter_files(ic.INFRA, azure), "postdeploy hook")


def test_subscription_without_dead_letter_fails(tmp_path: Path) -> None:
    def drop_dead_letter(s: str) -> str:
        start = s.index("    // Undeliverable results are written")
        end = s.index("  }\n}\n\noutput subscriptionName")
        return s[:start] + s[end:]
    infra = broken_copy(tmp_path, "scan-webhook.bicep", drop_dead_letter)
    assert problems_mentioning(ic.all_template_problems(infra), "no dead-letter destination")


def test_dead_letter_container_scanned_by_defender_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/malware-scanning.bicep",
                        lambda s: s.replace("  '${deadLetterContainerName}/'\n", "", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "must not scan the dead-letter container")


def test_missing_dead_letter_alert_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/malware-scanning.bicep",
                        lambda s: s.replace("metricName: 'DeadLetteredCount'", "metricName: 'DeliverySuccessCount'"))
    assert problems_mentioning(ic.all_template_problems(infra), "DeadLetteredCount")


def test_dead_letter_role_on_the_whole_account_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/scan-dead-letter-access.bicep",
                        lambda s: s.replace("  scope: container\n", "  scope: storage\n", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "Storage Blob Data Contributor must be scoped")


def test_topic_local_auth_back_on_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/malware-scanning.bicep",
                        lambda s: s.replace("disableLocalAuth: true", "disableLocalAuth: false"))
    assert problems_mentioning(ic.all_template_problems(infra), "disableLocalAuth must be true")
    assert "CKV_AZURE_192" in failed_checks(ic.run_checkov(infra))


def test_webhook_without_entra_delivery_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "scan-webhook.bicep",
                        lambda s: s.replace("        azureActiveDirectoryApplicationIdOrUri: entraAudience\n", "", 1))
    assert problems_mentioning(ic.all_template_problems(infra), "azureActiveDirectoryApplicationIdOrUri")


def test_storage_account_id_setting_from_something_else_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "main.bicep",
                        lambda s: s.replace("storageAccountId: storage.outputs.id", "storageAccountId: storage.outputs.name"))
    assert problems_mentioning(ic.all_template_problems(infra), "storageAccountId must be storage.outputs.id")


def test_scan_topic_id_setting_from_something_else_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "main.bicep",
                        lambda s: s.replace("resourceId('Microsoft.EventGrid/topics', scanTopicName)", "storage.outputs.id"))
    assert problems_mentioning(ic.all_template_problems(infra), "scanTopicId must be the resource id")


def test_delegator_at_resource_group_scope_fails(tmp_path: Path) -> None:
    def widen(s: str) -> str:
        head, tail = s.split("resource blobDelegator", 1)
        return head + "resource blobDelegator" + tail.replace("  scope: storage\n", "  scope: resourceGroup()\n", 1)
    infra = broken_copy(tmp_path, "modules/rbac.bicep", widen)
    assert problems_mentioning(ic.all_template_problems(infra), "Storage Blob Delegator must be scoped")


def test_stale_comment_put_back_fails(tmp_path: Path) -> None:
    infra = broken_copy(tmp_path, "modules/rbac.bicep",
                        lambda s: s.replace("// Tables: the state", "// The application itself uses no tables. Tables: the state"))
    assert problems_mentioning(ic.all_template_problems(infra), "uses no tables")
