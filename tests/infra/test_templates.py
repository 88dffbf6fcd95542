"""What the Bicep templates must guarantee, beyond checkov's checks."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.infra import infra_checks as ic

# Settings that shared/core/settings.py knows but the template deliberately leaves unset
# (optional integrations: unset means "not configured"). Add a name here, with the reason,
# or provide it in infra/modules/functionapp.bicep.
OPTIONAL_SETTINGS_NOT_SET_BY_INFRA: dict[str, str] = {
    "MAX_CONCURRENT_REQUESTS": "shared.core.capacity's default (32) is above the Flex per-instance HTTP concurrency",
    "ADMISSION_WAIT_SECONDS": "shared.core.capacity's default (2 s) keeps a saturated answer quick",
    "PUBLISH_CONCURRENCY": "shared.core.capacity's default (4); on Flex the publisher scales on its own instances",
    "PUBLISH_BUSY_SPACING_MS": "shared.core.capacity's default (100 ms between publish messages while the API is busy)",
    "ATTACHMENT_UPLOAD_QUOTA_BYTES": "the code's default (100 GB per organisation) is the intended production value",
    "ATTACHMENT_UPLOAD_TIMEOUT_HOURS": "the code's default (24 h) is the intended production value",
    "ATTACHMENT_UPLOAD_URL_MINUTES": "the code's default (60 minutes per upload URL) is the intended production value",
    "TOKEN_MAX_LIFETIME_MINUTES": "the code's default (24 h) covers Altinn, Maskinporten and Entra ID tokens",
    "MALWARE_SCAN_WEBHOOK_ROLE": "optional, with MALWARE_SCAN_WEBHOOK_AUDIENCE; default AzureEventGridSecureWebhookSubscriber",
    "WEBSITE_HOSTNAME": "set by the App Service platform itself",
    "PUBLIC_BASE_URL": "falls back to https:// + WEBSITE_HOSTNAME, the app's default host name; set it for a custom domain",
}


def test_checkov_parser_reads_every_bicep_file(parsed: dict[str, Any]) -> None:
    expected = set(ic.ENTRY_TEMPLATES) | {f"modules/{p.name}" for p in (ic.INFRA / "modules").glob("*.bicep")}
    assert set(parsed) == expected
    assert ic.check_parsed_everything(parsed) == []


def test_storage_account_is_keyless_private_and_protected(parsed: dict[str, Any]) -> None:
    assert ic.check_storage_account(parsed) == []
    (_, _, account), = ic.resources(parsed, "Microsoft.Storage/storageAccounts")
    props = ic.config(account)["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False


def test_containers_and_queues_the_app_uses_are_created(parsed: dict[str, Any]) -> None:
    assert ic.check_containers_and_queues(parsed) == []


def test_no_account_keys_sas_or_key_connection_strings_anywhere(parsed: dict[str, Any], texts: dict[str, str]) -> None:
    assert ic.check_no_keys(parsed, texts) == []
    params_text = (ic.INFRA / "main.bicepparam").read_text()
    for marker in ic.FORBIDDEN_TEXT:
        assert marker.lower() not in params_text.lower()


def test_app_settings_are_identity_based_and_complete(parsed: dict[str, Any]) -> None:
    assert ic.check_app_settings(parsed) == []
    settings = ic.app_settings(parsed)
    for conn in ic.STORAGE_CONNECTIONS:
        assert settings[f"{conn}__credential"] == "managedidentity"
        assert settings[f"{conn}__clientId"] == "identityClientId"


def test_every_setting_the_code_reads_is_provided(parsed: dict[str, Any]) -> None:
    provided = set(ic.app_settings(parsed))
    read_by_code = ic.settings_module_names(ic.ROOT / "shared" / "core" / "settings.py")
    assert read_by_code, "shared/core/settings.py defines no setting names"
    missing = []
    for name in sorted(read_by_code):
        if name in ic.STORAGE_CONNECTIONS:
            ok = {f"{name}__blobServiceUri", f"{name}__queueServiceUri", f"{name}__credential"} <= provided
        else:
            ok = name in provided or name in OPTIONAL_SETTINGS_NOT_SET_BY_INFRA
        if not ok:
            missing.append(name)
    assert not missing, (
        f"shared/core/settings.py reads {missing}, which infra/modules/functionapp.bicep does not set; set them "
        "there or list them in OPTIONAL_SETTINGS_NOT_SET_BY_INFRA (tests/infra/test_templates.py) with why")


def test_every_setting_the_template_sets_is_one_the_code_defines(parsed: dict[str, Any]) -> None:
    """The other direction: a name the template sets but no code reads is a typo or a leftover,
    and the deployment would silently run without it."""
    read_by_code = ic.settings_module_names(ic.ROOT / "shared" / "core" / "settings.py")
    platform = {name for name in ic.app_settings(parsed)
                if name.startswith(("FUNCTIONS_", "APPLICATIONINSIGHTS_", "AzureFunctionsJobHost__"))}
    connections = {name for name in ic.app_settings(parsed) if name.split("__")[0] in ic.STORAGE_CONNECTIONS}
    unknown = set(ic.app_settings(parsed)) - read_by_code - platform - connections
    assert not unknown, f"infra/modules/functionapp.bicep sets {sorted(unknown)}, which shared/core/settings.py does not define"


def test_the_templates_create_the_storage_the_code_uses() -> None:
    from shared.storage import clients, request_states

    assert ic.DATA_CONTAINERS == set(clients.CONTAINERS)
    assert ic.QUEUES == set(clients.QUEUES)
    assert ic.TABLES == {request_states.TABLE_NAME}


def test_monitoring_has_local_auth_disabled(parsed: dict[str, Any]) -> None:
    assert ic.check_monitoring(parsed) == []


def test_flex_consumption_app_is_guarded(parsed: dict[str, Any]) -> None:
    assert ic.check_function_app(parsed) == []


def test_python_version_matches_ci(parsed: dict[str, Any]) -> None:
    version = ic.bicep_python_version(parsed)
    assert version == "3.11"
    for workflow in ("ci.yml", "deploy.yml"):
        versions = ic.workflow_python_versions(ic.load_yaml(ic.ROOT / ".github" / "workflows" / workflow))
        assert versions and set(versions) == {version}, f"{workflow}: setup-python {versions} != Bicep {version}"
    ci = ic.load_yaml(ic.ROOT / ".github" / "workflows" / "ci.yml")
    steps = [s for job in ci["jobs"].values() for s in job["steps"]]
    assert any(s.get("run", "").strip() == "make test" for s in steps)
    assert any(str(s.get("uses", "")).startswith("actions/setup-node") and str(s["with"]["node-version"]) == "20"
               for s in steps)


def test_role_assignments_are_least_privilege_at_resource_scope(parsed: dict[str, Any]) -> None:
    assert ic.check_role_assignments(parsed) == []
    assignments = list(ic.resources(parsed, "Microsoft.Authorization/roleAssignments"))
    assert len(assignments) == len(ic.ALLOWED_ROLES)
    for path, template in parsed.items():
        text = json.dumps(template)
        # Owner, Contributor, User Access Administrator never appear.
        for broad in ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c",
                      "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"):
            assert broad not in text, f"{path} grants a broad role"


def test_malware_scanning_is_optional_and_one_switch(parsed: dict[str, Any]) -> None:
    assert ic.check_malware_scanning(parsed) == []
    assert ic.check_scan_mode(parsed) == []
    modules = parsed["main.bicep"]["modules"]
    by_path = {m["detail"]["path"]: m for m in modules.values()}
    assert "enableMalwareScanning" in json.dumps(by_path["modules/malware-scanning.bicep"]["config"])
    main_params = parsed["main.bicep"]["parameters"]
    assert main_params["enableMalwareScanning"]["default"] is False
    assert "malwareScanWebhook" not in main_params
    # The subscription is not deployed by main.bicep: the hook deploys scan-webhook.bicep.
    assert not list(ic.resources({"main.bicep": parsed["main.bicep"]}, "Microsoft.EventGrid/topics/eventSubscriptions"))


def _bicepparam_names(text: str) -> set[str]:
    return set(re.findall(r"^param\s+(\w+)\s*=", text, re.M))


def _bicepparam_env_vars(text: str) -> set[str]:
    return set(re.findall(r"readEnvironmentVariable\('(\w+)'", text))


def test_one_parameters_file_matches_main(parsed: dict[str, Any]) -> None:
    main_params = parsed["main.bicep"]["parameters"]
    required = {name for name, p in main_params.items() if p.get("default") is None}
    bicepparam = (ic.INFRA / "main.bicepparam").read_text()
    assert "using 'main.bicep'" in bicepparam
    names = _bicepparam_names(bicepparam)
    assert names <= set(main_params), f"unknown params in main.bicepparam: {names - set(main_params)}"
    assert required <= names, f"main.bicepparam misses required {required - names}"
    assert ic.check_parameter_files(ic.INFRA, ic.load_yaml(ic.ROOT / "azure.yaml")) == []
    # Every scanning parameter an operator sets is reachable through the one file.
    for name in ("enableMalwareScanning", "malwareScanWebhookEntraAudience", "malwareScanWebhookEntraTenantId",
                 "malwareScanAlertEmail"):
        assert name in names


def test_every_parameters_file_variable_is_documented() -> None:
    doc = (ic.ROOT / "docs" / "deploy.md").read_text()
    for var in _bicepparam_env_vars((ic.INFRA / "main.bicepparam").read_text()):
        assert f"`{var}`" in doc, f"docs/deploy.md does not name environment variable {var}"


def test_azure_yaml_deploys_this_folder_as_the_tagged_function_app(parsed: dict[str, Any]) -> None:
    azure = ic.load_yaml(ic.ROOT / "azure.yaml")
    assert azure["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    (service_name, service), = azure["services"].items()
    assert service == {"project": ".", "language": "python", "host": "function"}
    module = parsed["modules/functionapp.bicep"]
    assert module["parameters"]["serviceName"]["default"] == service_name
    assert set(azure["hooks"]) == {"postdeploy"}
    assert "main.parameters.json" not in (ic.ROOT / "azure.yaml").read_text()


def test_docs_cover_every_main_parameter(parsed: dict[str, Any]) -> None:
    doc = (ic.ROOT / "docs" / "deploy.md").read_text()
    for name in parsed["main.bicep"]["parameters"]:
        assert f"`{name}`" in doc, f"docs/deploy.md does not document parameter {name}"
    for name in ic.REQUIRED_APP_SETTINGS:
        assert f"`{name}`" in doc or name.split("__")[0] in doc
