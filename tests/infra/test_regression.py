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
