"""No pinned dependency has a known vulnerability (pip-audit, PyPI's advisory data).

``pip-audit -r <file> --disable-pip --no-deps`` audits every pin of requirements.txt,
requirements-dev.txt and requirements-infra.txt against PyPI's vulnerability data (OSV-fed).
It needs the network: when PyPI cannot be reached the test fails, it never passes silently.

pip-audit asks PyPI for each pinned release (``/pypi/<name>/<version>/json``). A package index
that answers only the project document (``/pypi/<name>/json``; this workplace's PyPI does)
makes pip-audit skip the package, and a skip is no answer: for each skipped pin the test reads
the project document itself, whose ``vulnerabilities`` list is PyPI's advisory data for the
latest release, so it decides the question when the pin is the latest release. A pin that is
neither audited by pip-audit nor the latest release fails the test, unless it is held back on
purpose in ``HELD_BACK`` (with the reason; the test warns about each one it could not audit).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt", "requirements-infra.txt"]
PYPI_PROJECT = "https://pypi.org/pypi/{name}/json"
# Pins deliberately older than the package's latest release, and why.
HELD_BACK = {
    "azure-functions": "2.x needs Python >= 3.13; the app runs on Python 3.11 (1.26.0 is the newest 1.x)",
    "selenium": "4.52.0 needs certifi >= 2026.10.23, newer than the package index this project is built "
    "from offers; test-only (the headless-browser test of /swagger)",
}


def _pip_audit() -> dict:
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps", "--progress-spinner", "off", "--format", "json"]
    for name in REQUIREMENTS:
        command += ["--requirement", str(ROOT / name)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    # 0: nothing found, 1: vulnerabilities found; anything else (network, index): no answer.
    if result.returncode not in (0, 1) or not result.stdout.strip():
        pytest.fail(f"pip-audit could not run (exit {result.returncode}); is PyPI reachable?\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for name in REQUIREMENTS:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line and not line.startswith("-"):
                package, version = line.split("==", 1)
                pins[_canonical(package.split("[", 1)[0])] = version.strip()
    return pins


def _canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _project(name: str) -> dict:
    try:
        with urllib.request.urlopen(PYPI_PROJECT.format(name=name), timeout=30) as response:  # noqa: S310 - fixed https URL
            return json.load(response)
    except OSError as exc:
        pytest.fail(f"PyPI did not answer for {name}: {exc}")


def test_no_pinned_dependency_has_a_known_vulnerability() -> None:
    report = _pip_audit()
    pins = _pins()
    vulnerable: list[str] = []
    audited_by_pip_audit: list[str] = []
    audited_by_project_document: list[str] = []
    not_audited: list[str] = []
    for dependency in report["dependencies"]:
        name = _canonical(dependency["name"])
        if "skip_reason" not in dependency:
            audited_by_pip_audit.append(name)
            vulnerable += [f"{name}=={dependency['version']}: {v['id']} (fixed in {v.get('fix_versions')})" for v in dependency.get("vulns", [])]
            continue
        version = pins.get(name)
        assert version, f"pip-audit skipped {name}, which is not a pin: {dependency['skip_reason']}"
        project = _project(name)
        if project["info"]["version"] != version:
            not_audited.append(f"{name}=={version} (latest {project['info']['version']})")
            continue
        audited_by_project_document.append(name)
        vulnerable += [
            f"{name}=={version}: {v['id']} {v.get('aliases')} (fixed in {v.get('fixed_in')})"
            for v in project.get("vulnerabilities", [])
            if not v.get("withdrawn")
        ]
    print(
        f"pins: {len(pins)}; audited by pip-audit: {len(audited_by_pip_audit)}, by PyPI's project document: "
        f"{len(audited_by_project_document)}, not auditable here: {not_audited}"
    )
    assert not vulnerable, "known-vulnerable pins (bump them and run the tests):\n" + "\n".join(vulnerable)
    assert set(pins) <= {_canonical(d["name"]) for d in report["dependencies"]}, "pip-audit did not see every pin"
    unexplained = [entry for entry in not_audited if entry.split("==", 1)[0] not in HELD_BACK]
    assert not unexplained, (
        "these pins could not be audited here (not the latest release, and PyPI's per-release document "
        f"is not reachable): bump them, or hold them back with a reason in HELD_BACK: {unexplained}"
    )
    for entry in not_audited:
        warnings.warn(f"not audited here: {entry}: {HELD_BACK[entry.split('==', 1)[0]]}", stacklevel=1)


def test_the_advisory_data_is_really_there() -> None:
    """Canary: an index that dropped the advisory data would make every audit above pass.
    ecdsa's Minerva timing attack (CVE-2024-23342) has no fix, so its latest release lists it."""
    project = _project("ecdsa")
    aliases = {alias for v in project.get("vulnerabilities", []) for alias in [v["id"], *(v.get("aliases") or [])]}
    assert "CVE-2024-23342" in aliases, "PyPI's project document carries no advisory data: the audit would be blind"
