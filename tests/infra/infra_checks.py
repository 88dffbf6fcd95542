"""Checks over the parsed Bicep templates that checkov does not make.

Every function takes the parsed templates ({relative path: template}, from bicep_dump.py run
with the infra venv) and/or the raw texts, and returns a list of problems (empty = fine), so
the same checks run on the real infra/ and on a deliberately broken copy of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
INFRA_VENV = ROOT / ".venv-infra"
INFRA_PYTHON = INFRA_VENV / "bin" / "python"
CHECKOV = INFRA_VENV / "bin" / "checkov"
CHECK_JSONSCHEMA = INFRA_VENV / "bin" / "check-jsonschema"
EXTERNAL_CHECKS = Path(__file__).resolve().parent / "checkov_checks"

# App settings the code reads (shared/core/settings.py and docs/deploy.md), exact names.
REQUIRED_APP_SETTINGS = {
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "CorrespondenceStorage__blobServiceUri",
    "CorrespondenceStorage__queueServiceUri",
    "CorrespondenceStorage__credential",
    "CorrespondenceStorage__clientId",
    "ALTINN_TOKEN_ISSUER",
    "ALTINN_TOKEN_JWKS",
    "MASKINPORTEN_ISSUER",
    "MASKINPORTEN_JWKS",
    "RESOURCE_REGISTRY",
    "AZURE_FUNCTIONS_ENVIRONMENT",
    "MALWARE_SCAN_MODE",
    "ATTACHMENT_MIN_EXPIRATION_DAYS",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "CorrespondenceStorage__tableServiceUri",
    # Scan-result verification (the event's topic) and the Entra ID token of Event Grid delivery.
    "MALWARE_SCAN_STORAGE_ACCOUNT_ID",
    "MALWARE_SCAN_TOPIC_ID",
    "MALWARE_SCAN_WEBHOOK_TENANT_ID",
    "MALWARE_SCAN_WEBHOOK_AUDIENCE",
}
STORAGE_CONNECTIONS = ("AzureWebJobsStorage", "CorrespondenceStorage")

DATA_CONTAINERS = {"correspondences", "attachments", "attachment-records", "attachment-uploads"}
QUEUES = {"correspondence-publish", "correspondence-publish-poison"}
TABLES = {"CorrespondenceRequests"}

# role definition id -> (role name, resource type of the only scope it may have)
ALLOWED_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": ("Storage Blob Data Owner", "Microsoft.Storage/storageAccounts"),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": ("Storage Queue Data Contributor", "Microsoft.Storage/storageAccounts"),
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": ("Storage Table Data Contributor", "Microsoft.Storage/storageAccounts"),
    "3913510d-42f4-4e42-8a64-420c390055eb": ("Monitoring Metrics Publisher", "Microsoft.Insights/components"),
    # User delegation key for one-blob upload SAS: the action only works at account scope.
    "db58b8e5-c6ad-4a2a-8342-4190687cbf4a": ("Storage Blob Delegator", "Microsoft.Storage/storageAccounts"),
    # The scan topic's identity, dead-lettering: one container only.
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": ("Storage Blob Data Contributor",
                                             "Microsoft.Storage/storageAccounts/blobServices/containers"),
}

# Templates deployed on their own: main.bicep (provision) and scan-webhook.bicep (by
# infra/hooks/subscribe-scan-webhook.sh once the code is deployed).
ENTRY_TEMPLATES = ("main.bicep", "scan-webhook.bicep")
SCAN_WEBHOOK_TEMPLATE = "scan-webhook.bicep"
SCAN_HOOK = ROOT / "infra" / "hooks" / "subscribe-scan-webhook.sh"
ENTRA_APP_SCRIPT = ROOT / "infra" / "hooks" / "create-scan-webhook-entra-app.sh"

# Site properties the Functions app-settings reference lists among the Flex Consumption
# deprecations (setting them fails or is ignored; ftpsState is answered with 400).
FLEX_DEPRECATED_SITE_CONFIG = {
    "ftpsState", "functionAppScaleLimit", "functionsRuntimeScaleMonitoringEnabled", "linuxFxVersion",
    "preWarmedInstanceCount", "use32BitWorkerProcess", "javaVersion", "netFrameworkVersion",
    "powerShellVersion",
}
FLEX_DEPRECATED_APP_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
}

# Text that only appears when a key, SAS or key-bearing connection string is used.
FORBIDDEN_TEXT = {
    "AccountKey=": "an account key in a connection string",
    "SharedAccessSignature=": "a SAS in a connection string",
    "DefaultEndpointsProtocol=": "a storage connection string",
    "listAccountSas": "an account SAS",
    "listServiceSas": "a service SAS",
    "listConnectionStrings": "listed connection strings",
    "primaryKey": "a primary key",
    "secondaryKey": "a secondary key",
    "InstrumentationKey=": "an Application Insights key (use the connection string reference)",
}
# listKeys is allowed only on a function or the Functions host (the scan webhook's key).
LIST_KEYS_ALLOWED_TYPES = {"Microsoft.Web/sites/functions", "Microsoft.Web/sites/host"}

SKIP_COMMENT = re.compile(r"(?P<lead>\S*)\s*checkov:skip=(?P<id>[A-Z0-9_]+)(?::(?P<reason>.*))?")


# --- running the infra tools -------------------------------------------------------------

def require_infra_venv() -> None:
    if not INFRA_PYTHON.exists() or not CHECKOV.exists():
        raise AssertionError(
            f"{INFRA_VENV} is missing or incomplete: the infra checks need it. Create it with "
            "`python3.11 -m venv .venv-infra && .venv-infra/bin/pip install -r requirements-infra.txt` "
            "(`make install` does this)."
        )


def infra_env() -> dict[str, str]:
    env = dict(os.environ)
    # Offline and quiet: no update check, no platform calls.
    env.update({"CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"})
    return env


def parse_bicep(infra_dir: Path) -> dict[str, Any]:
    """{relative path: parsed template or None} for every .bicep file, via checkov's parser."""
    require_infra_venv()
    out = subprocess.run(
        [str(INFRA_PYTHON), str(Path(__file__).with_name("bicep_dump.py")), str(infra_dir)],
        capture_output=True, text=True, timeout=120, env=infra_env(), check=True,
    )
    return json.loads(out.stdout)["files"]


def run_checkov(infra_dir: Path) -> dict[str, Any]:
    """checkov over infra_dir (offline), with the project's checks; its JSON report."""
    require_infra_venv()
    out = subprocess.run(
        [str(CHECKOV), "--directory", str(infra_dir), "--framework", "bicep", "--skip-download",
         "--external-checks-dir", str(EXTERNAL_CHECKS), "--output", "json", "--compact"],
        capture_output=True, text=True, timeout=300, env=infra_env(),
    )
    if out.returncode not in (0, 1) or not out.stdout.strip():
        raise AssertionError(f"checkov did not run (exit {out.returncode}): {out.stderr[-2000:]}")
    report = json.loads(out.stdout)
    if isinstance(report, list):  # one entry per framework
        report = next(r for r in report if r.get("check_type") == "bicep")
    return report


def read_texts(infra_dir: Path) -> dict[str, str]:
    return {p.relative_to(infra_dir).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(infra_dir.rglob("*.bicep"))}


# --- walking parsed templates ------------------------------------------------------------

def resources(parsed: dict[str, Any], rtype: str | None = None, existing: bool | None = False
              ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(file, symbolic name, resource) for each resource, by type; existing=None for both."""
    for path, template in parsed.items():
        for name, res in ((template or {}).get("resources") or {}).items():
            if rtype is not None and res.get("type") != rtype:
                continue
            if existing is not None and bool(res.get("existing")) != existing:
                continue
            yield path, name, res


def config(res: dict[str, Any]) -> dict[str, Any]:
    """A resource's body; for a loop resource, the body of one iteration."""
    body = res.get("config") or {}
    # Loops ([for x in y: {...}]) and conditions (if (c) {...}) wrap the body.
    while isinstance(body.get("config"), dict) and ("loop_type" in body or "condition" in body):
        body = body["config"]
    return body


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def app_settings(parsed: dict[str, Any]) -> dict[str, Any]:
    """name -> value of the function app's settings (siteConfig.appSettings)."""
    settings: dict[str, Any] = {}
    for _, _, res in resources(parsed, "Microsoft.Web/sites"):
        for item in ((config(res).get("properties") or {}).get("siteConfig") or {}).get("appSettings") or []:
            settings[item["name"]] = item.get("value")
    return settings


# --- the checks -------------------------------------------------------------------------

def used_modules(parsed: dict[str, Any]) -> set[str]:
    """Paths (relative to infra/) of the modules some template uses."""
    used = set()
    for path, template in parsed.items():
        base = Path(path).parent
        for module in ((template or {}).get("modules") or {}).values():
            target = (module.get("detail") or {}).get("path")
            if target:
                used.add(os.path.normpath((base / target).as_posix()).replace(os.sep, "/"))
    return used


def check_parsed_everything(parsed: dict[str, Any]) -> list[str]:
    problems = [f"{path}: checkov's Bicep parser cannot parse it (so checkov silently skips it)"
                for path, template in parsed.items() if template is None]
    for path, template in parsed.items():
        if template is not None and not (template.get("resources") or template.get("modules")):
            problems.append(f"{path}: parsed, but no resource or module found in it")
    used = used_modules(parsed)
    for path in parsed:
        if path.startswith("modules/") and path not in used:
            problems.append(f"{path}: not used by main.bicep or a module of it")
        elif not path.startswith("modules/") and path not in ENTRY_TEMPLATES:
            problems.append(f"{path}: a template nothing deploys (entry templates: {ENTRY_TEMPLATES})")
    return problems


def check_storage_account(parsed: dict[str, Any]) -> list[str]:
    problems = []
    accounts = list(resources(parsed, "Microsoft.Storage/storageAccounts"))
    if not accounts:
        return ["no storage account is created"]
    expected = {
        "allowSharedKeyAccess": False,
        "allowBlobPublicAccess": False,
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
        "defaultToOAuthAuthentication": True,
    }
    for path, name, res in accounts:
        body = config(res)
        props = body.get("properties") or {}
        for key, value in expected.items():
            if props.get(key) != value:
                problems.append(f"{path}:{name}: properties.{key} must be {value!r}, is {props.get(key)!r}")
        if not (body.get("sku") or {}).get("name"):
            problems.append(f"{path}:{name}: no explicit SKU")
    for path, name, res in resources(parsed, "Microsoft.Storage/storageAccounts/blobServices"):
        props = config(res).get("properties") or {}
        for policy in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
            if (props.get(policy) or {}).get("enabled") is not True:
                problems.append(f"{path}:{name}: {policy} must be enabled")
    return problems


def check_containers_and_queues(parsed: dict[str, Any]) -> list[str]:
    storage = parsed.get("modules/storage.bicep") or {}
    variables = storage.get("variables") or {}
    containers = set((variables.get("dataContainerNames") or {}).get("value") or [])
    queues = set((variables.get("queueNames") or {}).get("value") or [])
    tables = set((variables.get("tableNames") or {}).get("value") or [])
    problems = []
    if tables != TABLES:
        problems.append(f"storage tables {sorted(tables)} != {sorted(TABLES)}")
    if containers != DATA_CONTAINERS:
        problems.append(f"storage containers {sorted(containers)} != {sorted(DATA_CONTAINERS)}")
    if queues != QUEUES:
        problems.append(f"storage queues {sorted(queues)} != {sorted(QUEUES)}")
    if not list(resources(parsed, "Microsoft.Storage/storageAccounts/blobServices/containers")):
        problems.append("no blob container resource")
    if not list(resources(parsed, "Microsoft.Storage/storageAccounts/queueServices/queues")):
        problems.append("no queue resource")
    return problems


def check_no_keys(parsed: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = []
    for path, text in texts.items():
        for marker, meaning in FORBIDDEN_TEXT.items():
            if marker.lower() in text.lower():
                problems.append(f"{path}: contains {marker!r} ({meaning})")
        if re.search(r"(?<![.\w])listKeys\s*\(", text):
            problems.append(f"{path}: listKeys(...) function form; only <function>.listKeys() is allowed")
    # <symbol>.listKeys(): the symbol must be a function (or host) of the app, never storage.
    for path, template in parsed.items():
        if not template:
            continue
        symbols = {name: res.get("type") for name, res in (template.get("resources") or {}).items()}
        for node in walk(template):
            if isinstance(node, dict) and node.get("type") == "function_accessor":
                operands = node.get("operands") or {}
                if str(operands.get("func_name", "")).lower().startswith("list"):
                    target = symbols.get(operands.get("operand_1"))
                    if target not in LIST_KEYS_ALLOWED_TYPES:
                        problems.append(f"{path}: {operands.get('operand_1')}.{operands.get('func_name')}() "
                                        f"lists secrets of {target or 'an unknown resource'}")
    return problems


def check_app_settings(parsed: dict[str, Any], required: set[str] = REQUIRED_APP_SETTINGS) -> list[str]:
    settings = app_settings(parsed)
    problems = [f"app setting {name} is not provided" for name in sorted(required - settings.keys())]
    for conn in STORAGE_CONNECTIONS:
        if conn in settings:
            problems.append(f"app setting {conn} is a connection string; use {conn}__blobServiceUri etc.")
        if settings.get(f"{conn}__credential") != "managedidentity":
            problems.append(f"{conn}__credential must be 'managedidentity'")
        for suffix in ("accountKey", "sharedAccessSignature", "connectionString"):
            if f"{conn}__{suffix}" in settings:
                problems.append(f"app setting {conn}__{suffix} carries a secret")
    for name, value in settings.items():
        if re.search(r"AccountKey=|SharedAccessSignature=|DefaultEndpointsProtocol=|listKeys|sig=", json.dumps(value), re.I):
            problems.append(f"app setting {name} carries a key or SAS")
    if "Authorization=AAD" not in json.dumps(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")):
        problems.append("APPLICATIONINSIGHTS_AUTHENTICATION_STRING must use Authorization=AAD")
    if settings.get("AZURE_FUNCTIONS_ENVIRONMENT") != "Production":
        problems.append("AZURE_FUNCTIONS_ENVIRONMENT must be 'Production' in Azure")
    for name in sorted(FLEX_DEPRECATED_APP_SETTINGS):
        if name in settings:
            problems.append(f"{name} must not be set on Flex Consumption")
    # Settings live in one place: no separate appsettings/connectionstrings config resources.
    for path, name, res in resources(parsed, "Microsoft.Web/sites/config"):
        problems.append(f"{path}:{name}: app settings must be set in siteConfig.appSettings only")
    return problems


def check_monitoring(parsed: dict[str, Any]) -> list[str]:
    problems = []
    components = list(resources(parsed, "Microsoft.Insights/components"))
    workspaces = list(resources(parsed, "Microsoft.OperationalInsights/workspaces"))
    if not components or not workspaces:
        problems.append("Log Analytics workspace and Application Insights must both be created")
    for path, name, res in components:
        if (config(res).get("properties") or {}).get("DisableLocalAuth") is not True:
            problems.append(f"{path}:{name}: Application Insights DisableLocalAuth must be true")
    for path, name, res in workspaces:
        if ((config(res).get("properties") or {}).get("features") or {}).get("disableLocalAuth") is not True:
            problems.append(f"{path}:{name}: Log Analytics features.disableLocalAuth must be true")
    return problems


def _decorator(param: dict[str, Any], kind: str) -> Any:
    for deco in param.get("decorators") or []:
        if deco.get("type") == kind:
            return deco.get("argument")
    return None


def check_function_app(parsed: dict[str, Any]) -> list[str]:
    problems = []
    module = parsed.get("modules/functionapp.bicep") or {}
    params = module.get("parameters") or {}
    main_params = (parsed.get("main.bicep") or {}).get("parameters") or {}
    for source in (params, main_params):
        if _decorator(source.get("instanceMemoryMB") or {}, "allowed") != [512, 2048, 4096]:
            problems.append("instanceMemoryMB must be guarded with @allowed([512, 2048, 4096])")
        count = source.get("maximumInstanceCount") or {}
        if _decorator(count, "min_value") is None or _decorator(count, "max_value") is None:
            problems.append("maximumInstanceCount must be guarded with @minValue/@maxValue")
        concurrency = source.get("httpPerInstanceConcurrency") or {}
        if concurrency.get("default") != 16:
            problems.append("httpPerInstanceConcurrency must default to 16")
    sites = list(resources(parsed, "Microsoft.Web/sites"))
    if len(sites) != 1:
        return problems + [f"expected one function app, found {len(sites)}"]
    path, name, res = sites[0]
    body = config(res)
    props = body.get("properties") or {}
    identity = body.get("identity") or {}
    if identity.get("type") != "UserAssigned":
        problems.append("the function app must use a user-assigned identity")
    if props.get("httpsOnly") is not True:
        problems.append("httpsOnly must be true")
    if (props.get("siteConfig") or {}).get("minTlsVersion") != "1.2":
        problems.append("siteConfig.minTlsVersion must be '1.2'")
    fac = props.get("functionAppConfig") or {}
    auth = (((fac.get("deployment") or {}).get("storage") or {}).get("authentication") or {})
    if auth.get("type") != "UserAssignedIdentity":
        problems.append("deployment storage must authenticate with UserAssignedIdentity")
    runtime = fac.get("runtime") or {}
    if runtime.get("name") != "python":
        problems.append("runtime must be python")
    scale = fac.get("scaleAndConcurrency") or {}
    if ((scale.get("triggers") or {}).get("http") or {}).get("perInstanceConcurrency") != "httpPerInstanceConcurrency":
        problems.append("perInstanceConcurrency must come from the httpPerInstanceConcurrency parameter")
    plans = list(resources(parsed, "Microsoft.Web/serverfarms"))
    if not plans or any((config(p).get("sku") or {}).get("tier") != "FlexConsumption" for _, _, p in plans):
        problems.append("the plan must be Flex Consumption (FC1)")
    return problems


def bicep_python_version(parsed: dict[str, Any]) -> str | None:
    main = parsed.get("main.bicep") or {}
    value = ((main.get("variables") or {}).get("pythonVersion") or {}).get("value")
    module_allowed = _decorator(((parsed.get("modules/functionapp.bicep") or {}).get("parameters") or {})
                                .get("pythonVersion") or {}, "allowed")
    if module_allowed != [value]:
        return None
    return value


def check_role_assignments(parsed: dict[str, Any]) -> list[str]:
    problems = []
    seen = set()
    for path, template in parsed.items():
        scope = ((template or {}).get("globals") or {}).get("scope", {}).get("value")
        if scope not in (None, "resourceGroup"):
            problems.append(f"{path}: targetScope {scope!r}; everything deploys at resource group scope")
    for path, name, res in resources(parsed, "Microsoft.Authorization/roleAssignments", existing=None):
        body = config(res)
        symbols = (parsed[path].get("resources") or {})
        scope_symbol = body.get("scope")
        if not isinstance(scope_symbol, str):  # resourceGroup(), subscription(), an expression
            scope_symbol = json.dumps(scope_symbol)
        scope_type = (symbols.get(scope_symbol) or {}).get("type")
        role_fn = ((body.get("properties") or {}).get("roleDefinitionId") or {}).get("function") or {}
        role_var = (role_fn.get("parameters") or {}).get("resource_name_1")
        role_id = ((parsed[path].get("variables") or {}).get(role_var) or {}).get("value", role_var)
        allowed = ALLOWED_ROLES.get(role_id)
        if allowed is None:
            problems.append(f"{path}:{name}: role {role_id} is not in the least-privilege list")
            continue
        if scope_type != allowed[1]:
            problems.append(f"{path}:{name}: {allowed[0]} must be scoped to {allowed[1]}, is {scope_type or scope_symbol!r}")
        name_fn = (body.get("name") or {}).get("function") if isinstance(body.get("name"), dict) else None
        if not name_fn or name_fn.get("type") != "guid":
            problems.append(f"{path}:{name}: name must be guid(scope, principal, role)")
        else:
            args = json.dumps(name_fn.get("parameters"))
            if scope_symbol not in args or "principalId" not in args or role_var not in args:
                problems.append(f"{path}:{name}: name must be guid({scope_symbol}.id, principalId, {role_var})")
        seen.add(role_id)
    for role_id, (role, _) in ALLOWED_ROLES.items():
        if role_id not in seen:
            problems.append(f"role {role} is not assigned")
    return problems


def check_malware_scanning(parsed: dict[str, Any]) -> list[str]:
    problems = []
    defender = list(resources(parsed, "Microsoft.Security/defenderForStorageSettings"))
    if len(defender) != 1:
        return ["Defender for Storage settings must be defined once"]
    props = config(defender[0][2]).get("properties") or {}
    upload = (props.get("malwareScanning") or {}).get("onUpload") or {}
    if upload.get("isEnabled") is not True or not (props.get("malwareScanning") or {}).get("scanResultsEventGridTopicResourceId"):
        problems.append("Defender on-upload scanning must be on and send results to the Event Grid topic")
    subs = list(resources(parsed, "Microsoft.EventGrid/topics/eventSubscriptions"))
    if len(subs) != 1:
        return problems + ["one Event Grid subscription for the scan-result webhook expected"]
    path, name, res = subs[0]
    if path != SCAN_WEBHOOK_TEMPLATE:
        problems.append(f"{path}: the webhook subscription belongs in {SCAN_WEBHOOK_TEMPLATE}, deployed after the code")
    dest = (config(res).get("properties") or {}).get("destination") or {}
    url = json.dumps((dest.get("properties") or {}).get("endpointUrl"))
    if dest.get("endpointType") != "WebHook" or "?code=" not in url or "listKeys" not in url:
        problems.append("the webhook subscription must call the function URL with ?code=<function key>")
    params = (parsed[path].get("parameters") or {})
    if (params.get("webhookRoute") or {}).get("default") != "correspondence/api/v1/webhooks/malwarescanresults":
        problems.append("webhook route must be correspondence/api/v1/webhooks/malwarescanresults")
    if (params.get("functionName") or {}).get("default") != "malware_scan_result":
        problems.append("webhook function must be malware_scan_result")
    return problems


def _main(parsed: dict[str, Any]) -> dict[str, Any]:
    return parsed.get("main.bicep") or {}


# --- issue #21: one check per finding ----------------------------------------------------

def check_flex_site_config(parsed: dict[str, Any]) -> list[str]:
    """Row 1: no site property Flex Consumption deprecates (ftpsState is answered with 400)."""
    problems = []
    deprecated = {key.lower() for key in FLEX_DEPRECATED_SITE_CONFIG}
    for path, name, res in resources(parsed, "Microsoft.Web/sites"):
        props = config(res).get("properties") or {}
        for key in sorted(props.get("siteConfig") or {}):
            if key.lower() in deprecated:
                problems.append(f"{path}:{name}: siteConfig.{key} is a Flex Consumption deprecation "
                                "(Azure answers 400 for Site.SiteConfig.FtpsState); remove it")
        for key in sorted(props):
            if key.lower() in deprecated:
                problems.append(f"{path}:{name}: properties.{key} is a Flex Consumption deprecation")
    return problems


def check_scan_mode(parsed: dict[str, Any]) -> list[str]:
    """Row 2: MALWARE_SCAN_MODE follows one deploy-time switch; nothing sets it to none mid-deploy."""
    problems = []
    main = _main(parsed)
    expected = {"operator": {"type": "conditional", "operands": {
        "condition": "enableMalwareScanning", "true_value": "defender", "false_value": "none"}}}
    if ((main.get("variables") or {}).get("malwareScanMode") or {}).get("value") != expected:
        problems.append("main.bicep: malwareScanMode must be `enableMalwareScanning ? 'defender' : 'none'`: "
                        "one switch, so scanning stays enforced through every deployment")
    for name, param in (main.get("parameters") or {}).items():
        if name != "enableMalwareScanning" and param.get("type") == "bool" and "scan" in name.lower():
            problems.append(f"main.bicep: bool parameter {name} is a second malware-scanning switch "
                            "(a staged deploy would run with scanning off)")
    module = (main.get("modules") or {}).get("functionApp") or {}
    if ((module.get("config") or {}).get("params") or {}).get("malwareScanMode") != "malwareScanMode":
        problems.append("main.bicep: the function app must get malwareScanMode")
    if app_settings(parsed).get("MALWARE_SCAN_MODE") != "malwareScanMode":
        problems.append("functionapp.bicep: MALWARE_SCAN_MODE must be the malwareScanMode parameter")
    return problems


def check_parameter_files(infra_dir: Path, azure_yaml: dict[str, Any]) -> list[str]:
    """Row 3: one parameters file (azd prefers main.bicepparam) and the azd hook that subscribes."""
    problems = []
    if not (infra_dir / "main.bicepparam").is_file():
        problems.append("infra/main.bicepparam is missing")
    for stray in sorted(infra_dir.glob("*.parameters.json")):
        problems.append(f"infra/{stray.name}: azd uses main.bicepparam when it exists, so this file is dead")
    if (azure_yaml.get("infra") or {}).get("module") != "main":
        problems.append("azure.yaml: infra.module must be main (main.bicepparam is <module>.bicepparam)")
    hook = (azure_yaml.get("hooks") or {}).get("postdeploy") or {}
    if hook.get("run") != "infra/hooks/subscribe-scan-webhook.sh" or hook.get("shell") != "sh":
        problems.append("azure.yaml: a postdeploy hook must run infra/hooks/subscribe-scan-webhook.sh with sh")
    if hook.get("continueOnError"):
        problems.append("azure.yaml: the postdeploy hook must fail the deployment when it cannot subscribe")
    if not (infra_dir / "hooks" / "subscribe-scan-webhook.sh").is_file():
        problems.append("infra/hooks/subscribe-scan-webhook.sh is missing")
    return problems


def check_deploy_workflow(workflow: dict[str, Any]) -> list[str]:
    """Rows 2 and 4: the workflow deploys main.bicep once, never toggles scanning, then runs the hook."""
    problems = []
    job = (workflow.get("jobs") or {}).get("deploy") or {}
    steps = job.get("steps") or []
    runs = [str(step.get("run", "")) for step in steps]
    for step in steps:
        for key in (step.get("env") or {}):
            if "MALWARE" in key.upper() or "SCAN" in key.upper():
                problems.append(f"deploy.yml: step {step.get('name')!r} overrides {key}: scanning must not change "
                                "between the steps of a deployment")
    deployments = [r for r in runs if "az deployment group create" in r]
    if len(deployments) != 1 or "infra/main.bicepparam" not in deployments[0]:
        problems.append("deploy.yml: exactly one `az deployment group create` (main.bicep with main.bicepparam); "
                        "the webhook subscription is the hook script's job")
    publish = next((i for i, r in enumerate(runs) if "func azure functionapp publish" in r), None)
    hook = next((i for i, r in enumerate(runs) if "infra/hooks/subscribe-scan-webhook.sh" in r), None)
    if hook is None:
        problems.append("deploy.yml: no step runs infra/hooks/subscribe-scan-webhook.sh (the azd hook)")
    elif publish is None or hook < publish:
        problems.append("deploy.yml: the webhook script must run after the code is published")
    elif steps[hook].get("if"):
        problems.append("deploy.yml: the webhook step must always run (the script skips when scanning is off)")
    return problems


def check_dead_letter(parsed: dict[str, Any]) -> list[str]:
    """Row 5: undeliverable results go to a blob container, written by the topic's identity, and alert."""
    problems = []
    for path, name, res in resources(parsed, "Microsoft.EventGrid/topics/eventSubscriptions"):
        props = config(res).get("properties") or {}
        if props.get("deadLetterDestination"):
            problems.append(f"{path}:{name}: dead-letter with the topic identity (deadLetterWithResourceIdentity), "
                            "not deadLetterDestination")
        dead_letter = props.get("deadLetterWithResourceIdentity") or {}
        if (dead_letter.get("identity") or {}).get("type") != "SystemAssigned":
            problems.append(f"{path}:{name}: no dead-letter destination written by the topic's system identity "
                            "(after 30 attempts or 24 h a scan result would be dropped)")
        dest = dead_letter.get("deadLetterDestination") or {}
        dest_props = dest.get("properties") or {}
        if dest.get("endpointType") != "StorageBlob" or not dest_props.get("blobContainerName") \
                or not dest_props.get("resourceId"):
            problems.append(f"{path}:{name}: the dead-letter destination must be a StorageBlob container")
    scanning = parsed.get("modules/malware-scanning.bicep") or {}
    symbols = scanning.get("resources") or {}
    topics = [r for r in symbols.values() if r.get("type") == "Microsoft.EventGrid/topics" and not r.get("existing")]
    if not topics or ((config(topics[0]).get("identity") or {}).get("type") != "SystemAssigned"):
        problems.append("malware-scanning.bicep: the topic needs a system-assigned identity (it writes dead letters)")
    containers = [n for n, r in symbols.items()
                  if r.get("type") == "Microsoft.Storage/storageAccounts/blobServices/containers" and not r.get("existing")]
    if not containers:
        problems.append("malware-scanning.bicep: no dead-letter container is created")
    access = [m for m in (scanning.get("modules") or {}).values()
              if (m.get("detail") or {}).get("path") == "scan-dead-letter-access.bicep"]
    if not access or "identity" not in json.dumps(((access[0].get("config") or {}).get("params") or {}).get("principalId")):
        problems.append("malware-scanning.bicep: the topic's identity must get write access to the dead-letter container")
    excluded = json.dumps(((scanning.get("variables") or {}).get("excludeBlobsWithPrefix") or {}).get("value"))
    if "deadLetterContainerName" not in excluded:
        problems.append("malware-scanning.bicep: Defender must not scan the dead-letter container")
    alerted = set()
    for path, name, res in resources(parsed, "Microsoft.Insights/metricAlerts"):
        props = config(res).get("properties") or {}
        if "topic" not in json.dumps(props.get("scopes")):
            continue
        for criterion in ((props.get("criteria") or {}).get("allOf") or []):
            alerted.add(criterion.get("metricName"))
    for metric in ("DeadLetteredCount", "DroppedEventCount"):
        if metric not in alerted:
            problems.append(f"no metric alert on the scan topic's {metric}: lost scan results would go unnoticed")
    return problems


def check_topic_local_auth(parsed: dict[str, Any]) -> list[str]:
    """Row 6: the scan-result topic accepts Entra ID only (no access keys or SAS)."""
    return [f"{path}:{name}: properties.disableLocalAuth must be true"
            for path, name, res in resources(parsed, "Microsoft.EventGrid/topics")
            if (config(res).get("properties") or {}).get("disableLocalAuth") is not True]


STALE_TEXT = {
    "uses no tables": "the app keeps request state in table CorrespondenceRequests",
    "CorrespondenceIndex": "the table of an earlier storage layout; the app uses CorrespondenceRequests",
    "is not a Flex Consumption setting": "unverified claim in the CKV_AZURE_213 skip reason",
    "two-stage": "malware scanning is one switch now",
    "main.parameters.json": "azd uses main.bicepparam; there is no JSON parameters file",
}


def check_stale_text(texts: dict[str, str]) -> list[str]:
    """Row 6: comments that described an earlier state."""
    return [f"{path}: says {marker!r} ({why})" for path, text in texts.items()
            for marker, why in STALE_TEXT.items() if marker.lower() in text.lower()]


def check_webhook_entra_delivery(parsed: dict[str, Any]) -> list[str]:
    """Event Grid also authenticates with an Entra ID token on the WebHook destination."""
    problems = []
    template = parsed.get(SCAN_WEBHOOK_TEMPLATE) or {}
    params = template.get("parameters") or {}
    for path, name, res in resources(parsed, "Microsoft.EventGrid/topics/eventSubscriptions"):
        dest = (config(res).get("properties") or {}).get("destination") or {}
        props = dest.get("properties") or {}
        for key, param in (("azureActiveDirectoryTenantId", "entraTenantId"),
                           ("azureActiveDirectoryApplicationIdOrUri", "entraAudience")):
            if props.get(key) != param:
                problems.append(f"{path}:{name}: destination.properties.{key} must be the {param} parameter")
            elif (params.get(param) or {}).get("default") is not None \
                    or _decorator(params.get(param) or {}, "min_length") != 1:
                problems.append(f"{path}: parameter {param} must be required (no default, @minLength(1))")
        if props.get("minimumTlsVersionAllowed") != "1.2":
            problems.append(f"{path}:{name}: the webhook must be called with TLS 1.2 or later")
    return problems


def check_scan_storage_account_setting(parsed: dict[str, Any]) -> list[str]:
    """MALWARE_SCAN_STORAGE_ACCOUNT_ID is the storage account's resource id (the event's topic)."""
    problems = []
    if app_settings(parsed).get("MALWARE_SCAN_STORAGE_ACCOUNT_ID") != "storageAccountId":
        problems.append("functionapp.bicep: MALWARE_SCAN_STORAGE_ACCOUNT_ID must be the storageAccountId parameter")
    if app_settings(parsed).get("MALWARE_SCAN_TOPIC_ID") != "scanTopicId":
        problems.append("functionapp.bicep: MALWARE_SCAN_TOPIC_ID must be the scanTopicId parameter")
    module = (_main(parsed).get("modules") or {}).get("functionApp") or {}
    given = json.dumps(((module.get("config") or {}).get("params") or {}).get("storageAccountId"))
    if not all(f'"{part}"' in given for part in ("storage", "outputs", "id")):
        problems.append("main.bicep: storageAccountId must be storage.outputs.id")
    topic = json.dumps(((module.get("config") or {}).get("params") or {}).get("scanTopicId"))
    if "scanTopicName" not in topic or "Microsoft.EventGrid/topics" not in topic:
        problems.append("main.bicep: scanTopicId must be the resource id of the scan-result topic (scanTopicName)")
    storage_outputs = (parsed.get("modules/storage.bicep") or {}).get("outputs") or {}
    if json.dumps((storage_outputs.get("id") or {}).get("value")) != json.dumps(
            {"operator": {"type": "property_accessor", "operands": {"operand_1": "storage", "operand_2": "id"}}}):
        problems.append("storage.bicep: output id must be storage.id")
    return problems


def check_skip_reasons(texts: dict[str, str]) -> tuple[list[str], set[tuple[str, str]]]:
    """Every checkov skip has a reason; returns (problems, {(file, check id)})."""
    problems, skips = [], set()
    for path, text in texts.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            match = SKIP_COMMENT.search(line)
            if not match:
                continue
            if not match.group("lead").startswith("//"):
                problems.append(f"{path}:{lineno}: a checkov skip must be a // comment")
            reason = (match.group("reason") or "").strip()
            if len(reason) < 30:
                problems.append(f"{path}:{lineno}: checkov skip {match.group('id')} needs its reason written next to it")
            skips.add((path, match.group("id")))
    return problems, skips


def check_checkov_report(report: dict[str, Any], parsed: dict[str, Any], texts: dict[str, str]) -> list[str]:
    problems = []
    summary = report.get("summary") or {}
    results = report.get("results") or {}
    for failed in results.get("failed_checks") or []:
        problems.append(f"checkov {failed['check_id']} failed: {failed['file_path']} {failed['resource']} ({failed['check_name']})")
    if summary.get("parsing_errors") or results.get("parsing_errors"):
        problems.append(f"checkov could not parse: {results.get('parsing_errors')}")
    # Every file was read: checkov reports no parsing error, and its own parser (bicep_dump.py,
    # the same code checkov runs) returns a template for every file.
    for path, template in parsed.items():
        if template is None:
            problems.append(f"{path}: checkov's parser returns nothing for it (the file is not checked)")
    if not summary.get("resource_count"):
        problems.append("checkov found no resources")
    # Skips in the templates and skips in the report match (no stale or unexplained skip).
    _, skips = check_skip_reasons(texts)
    reported = {(s["file_path"].lstrip("/"), s["check_id"]) for s in results.get("skipped_checks") or []}
    for path, check_id in sorted(skips - reported):
        problems.append(f"{path}: skip of {check_id} is stale (checkov did not skip it)")
    for path, check_id in sorted(reported - skips):
        problems.append(f"{path}: {check_id} skipped without a reason in the template")
    return problems


def all_template_problems(infra_dir: Path) -> list[str]:
    parsed = parse_bicep(infra_dir)
    texts = read_texts(infra_dir)
    problems = []
    for check in (check_parsed_everything, check_storage_account, check_containers_and_queues,
                  check_app_settings, check_monitoring, check_function_app, check_role_assignments,
                  check_malware_scanning, check_flex_site_config, check_scan_mode, check_dead_letter,
                  check_topic_local_auth, check_webhook_entra_delivery, check_scan_storage_account_setting):
        problems += check(parsed)
    problems += check_no_keys(parsed, texts)
    problems += check_skip_reasons(texts)[0]
    problems += check_stale_text(texts)
    return problems


if __name__ == "__main__":  # quick look: python -m tests.infra.infra_checks [infra dir]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else INFRA
    print("\n".join(all_template_problems(target)) or "no problems")


# --- files outside infra/ ------------------------------------------------------------------

def load_yaml(path: Path) -> Any:
    """YAML -> Python via the infra venv (it has PyYAML; the app venv does not)."""
    require_infra_venv()
    code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))"
    out = subprocess.run([str(INFRA_PYTHON), "-c", code, str(path)], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def workflow_python_versions(workflow: dict[str, Any]) -> list[str]:
    versions = []
    for job in (workflow.get("jobs") or {}).values():
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith("actions/setup-python"):
                versions.append(str((step.get("with") or {}).get("python-version")))
    return versions


def settings_module_names(settings_py: Path) -> set[str]:
    """Values of the module-level string constants of shared/core/settings.py (the setting names)."""
    import ast

    names = set()
    for node in ast.parse(settings_py.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.isupper() and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            names.add(node.value.value)
    return names
