"""App settings and host.json for the local host, as the Functions host reads them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")
_SETTING_EXPRESSION = re.compile(r"%([^%]+)%")


def load_local_settings(root: Path) -> None:
    """Copy ``local.settings.json`` Values into the environment; the environment wins."""
    path = root / "local.settings.json"
    if path.exists():
        values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
        for name, value in values.items():
            os.environ.setdefault(name, str(value))
    # Core Tools set these locally; the application relaxes development limits on the first.
    os.environ.setdefault("AZURE_FUNCTIONS_ENVIRONMENT", "Development")
    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")


HOST_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"


def load_host_json(root: Path) -> dict[str, Any]:
    """host.json, with app-setting overrides such as
    ``AzureFunctionsJobHost__extensions__queues__visibilityTimeout`` (as the Functions host)."""
    path = root / "host.json"
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for name, value in os.environ.items():
        if not name.startswith(HOST_OVERRIDE_PREFIX):
            continue
        *parents, leaf = name[len(HOST_OVERRIDE_PREFIX):].split("__")
        node = config
        for part in parents:
            key = next((k for k in node if k.lower() == part.lower()), part)
            node = node.setdefault(key, {})
        key = next((k for k in node if k.lower() == leaf.lower()), leaf)
        node[key] = value
    return config


def timespan_seconds(value: str | None, default: float) -> float:
    """host.json TimeSpan strings such as ``00:00:02`` or ``1.00:00:00``."""
    if not value:
        return default
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def resolve(expression: str) -> str:
    """Binding expressions ``%NAME%`` take the value of app setting NAME."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise KeyError(f"binding expression names app setting {name}, which is not set")
        return os.environ[name]

    return _SETTING_EXPRESSION.sub(lookup, expression)
