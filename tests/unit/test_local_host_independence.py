"""The local host is a host, not part of the app: it imports nothing of the application (its
function folders are loaded by name at run time) and names none of the app's settings."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST_MODULES = [ROOT / "tools" / "serve.py", *sorted((ROOT / "tools" / "localhost").glob("*.py"))]
APP_PACKAGES = {"shared"} | {path.parent.name for path in ROOT.glob("*/function.json")}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_local_host_imports_nothing_of_the_app() -> None:
    assert len(HOST_MODULES) > 5 and "initialize_correspondence" in APP_PACKAGES
    for path in HOST_MODULES:
        assert not _imported(path) & APP_PACKAGES, path


def test_the_local_host_names_no_app_setting_or_app_error_code() -> None:
    for path in HOST_MODULES:
        text = path.read_text(encoding="utf-8")
        assert "CorrespondenceStorage" not in text, path
        assert '"errorCode"' not in text and "CORR-" not in text, path
