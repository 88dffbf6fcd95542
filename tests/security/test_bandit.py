"""bandit finds nothing of medium or high severity in the application code.

Application code: ``shared/`` and every function folder (the code that is deployed). tests/,
tools/ and bench/ are not deployed (.funcignore) and are left out: they start processes, bind
sockets and use asserts by design. Each ``# nosec`` in the application code names its check and
says why (e.g. B310 where only http(s) URLs reach urlopen).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def application_code() -> list[str]:
    folders = sorted(p.parent.name for p in ROOT.glob("*/function.json"))
    return ["shared", *folders]


def test_no_medium_or_high_finding_in_application_code() -> None:
    targets = application_code()
    assert "shared" in targets and "initialize_correspondence" in targets
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "--quiet", "--recursive", "--format", "json", "--severity-level", "low", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), f"bandit did not run (exit {result.returncode}):\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    assert not report["errors"], report["errors"]
    findings = report["results"]
    serious = [
        f"{r['issue_severity']} {r['test_id']} {r['filename']}:{r['line_number']}: {r['issue_text']}"
        for r in findings
        if r["issue_severity"] in ("MEDIUM", "HIGH")
    ]
    scanned = report["metrics"]["_totals"]["loc"]
    low = sorted({f"{r['test_id']}" for r in findings if r["issue_severity"] == "LOW"})
    print(f"bandit: {scanned} lines in {len(targets)} targets; low-severity findings: {len(findings) - len(serious)} ({', '.join(low)})")
    assert not serious, "bandit findings of medium or high severity:\n" + "\n".join(serious)
    nosec = [line for path in targets for f in (ROOT / path).rglob("*.py") for line in f.read_text(encoding="utf-8").splitlines() if "# nosec" in line]
    assert all("# nosec B" in line for line in nosec), f"a bare '# nosec' hides every check: name the check: {nosec}"
