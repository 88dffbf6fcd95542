"""Project checkov checks (loaded with --external-checks-dir; run by the infra venv only).

Checkov's Bicep checks do not cover shared-key access or keys in app settings, which are the
two mistakes that matter most here, so these make checkov itself fail on them.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.bicep.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

# Shapes of a storage credential inside a setting value.
KEY_MARKERS = re.compile(r"AccountKey=|SharedAccessSignature=|DefaultEndpointsProtocol=|listKeys|listAccountSas|listServiceSas", re.I)
CONNECTIONS = ("AzureWebJobsStorage", "CorrespondenceStorage")


class StorageSharedKeyDisabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Storage account disallows shared key (account key / SAS) authorization",
            id="CKV_CORR_1",
            categories=(CheckCategories.IAM,),
            supported_resources=("Microsoft.Storage/storageAccounts",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/allowSharedKeyAccess"]
        properties = conf.get("properties") or {}
        return CheckResult.PASSED if properties.get("allowSharedKeyAccess") is False else CheckResult.FAILED


class StorageBlobPublicAccessDisabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Storage account disallows anonymous blob access",
            id="CKV_CORR_2",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=("Microsoft.Storage/storageAccounts",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/allowBlobPublicAccess"]
        properties = conf.get("properties") or {}
        return CheckResult.PASSED if properties.get("allowBlobPublicAccess") is False else CheckResult.FAILED


class AppSettingsIdentityBased(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Function app storage connections are identity-based (no key, SAS or connection string)",
            id="CKV_CORR_3",
            categories=(CheckCategories.SECRETS,),
            supported_resources=("Microsoft.Web/sites", "Microsoft.Web/sites/config"),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/siteConfig/appSettings", "properties"]
        properties = conf.get("properties") or {}
        if "siteConfig" in properties:
            settings = (properties.get("siteConfig") or {}).get("appSettings") or []
            pairs = [(s.get("name"), s.get("value")) for s in settings if isinstance(s, dict)]
        else:  # a sites/config resource: a name -> value map
            pairs = list(properties.items())
        for name, value in pairs:
            if name in CONNECTIONS:  # the connection-string form of a storage connection
                return CheckResult.FAILED
            if KEY_MARKERS.search(repr(value)):
                return CheckResult.FAILED
        return CheckResult.PASSED


check_shared_key = StorageSharedKeyDisabled()
check_public_blob = StorageBlobPublicAccessDisabled()
check_settings = AppSettingsIdentityBased()
