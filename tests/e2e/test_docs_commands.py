"""The shell examples of README.md and docs/*.md run as written, in order, against a local host.

What runs: every fenced block tagged ``sh``, ``bash`` or ``console`` in README.md and in every
docs/*.md (``console``: only the lines after a ``$ `` prompt, with their continuation lines).
A block whose preceding non-blank line is ``<!-- docs-test: skip (reason) -->`` is skipped; the
reason must not be empty (a marker without one fails the test). Each file's blocks run in order
in one bash session under ``set -euo pipefail`` (plus ``-E`` so that a failure inside a shell
function is reported too), so a later block sees what an earlier one defined, and every file
defines its own variables: nothing comes from the test but the ports below.

Where: in a fresh copy of the repository (the files git tracks or would track, with their
mtimes, so ``make`` sees nothing to rebuild; ``.venv`` and ``node_modules`` are linked, not
copied). Files the examples create (report.pdf, big.zip, .devkeys, .azurite, local.settings.json)
never touch the working tree, and nothing of a developer's own ``make run`` is reused.

Which host: the docs say ``http://localhost:7071``, the README's default. The test rewrites
``localhost:7071`` in each block to the port of the host it runs that file against, and sets
``ALTINN_CORR_BASE_URL`` (the CLI's default is the same URL) and ``PORT``. A rewrite rather
than ``${API:-…}`` defaults in the docs, because the docs then read as a user types them and
the rewrite is the only difference between what is documented and what runs.

* README.md runs against what its own ``make run &`` starts: ``PORT`` and
  ``AZURITE_BLOB_PORT``/``AZURITE_QUEUE_PORT``/``AZURITE_TABLE_PORT`` are set in the
  environment to free ports (the Makefile takes them with ``?=``), so "Try it" is tested for
  real, ``make wait`` and ``make stop`` included. The test runs ``make stop`` afterwards anyway.
* Every other file runs against one host the test starts: ``tools.serve`` on a free port with
  an Azurite of its own, trusting the copy's ``.devkeys`` (which the docs' ``tools.devtoken``
  writes), the copy's resource registry, no malware scanner: what ``make run`` serves.

A failure names the file, the line of the block and of the command in the file, the exit code,
and the block's output (its end, if long).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.azurite import own_azurite
from tests.support.localhost import LocalHost
from tools.azurite import free_ports

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [Path("README.md"), *sorted(p.relative_to(ROOT) for p in (ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"sh", "bash", "console"}
DOCS_PORT = "localhost:7071"
SKIP_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*skip\b(.*?)-->\s*$")
SKIP_REASON = re.compile(r"^\s*\((.*)\)\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
# Seconds one file's blocks may take together (the README's first make run included).
FILE_TIMEOUT = 150
# So large outputs (a failing curl dumping a body) stay readable in the report.
OUTPUT_TAIL = 6000
# Variables a user's fresh shell would not have, but a test run (make test) might.
NOT_INHERITED = (
    "API", "TOKEN", "ID", "KEY", "PORT", "AZURITE_BLOB_PORT", "AZURITE_QUEUE_PORT", "AZURITE_TABLE_PORT",
    "AzureWebJobsStorage", "CorrespondenceStorage", "AZURITE_CONNECTION_STRING",
    "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH",
)

needs_jq_and_curl = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("curl") is None,
    reason="the docs' examples need jq and curl (apt-get install jq curl); not installed here",
)


@dataclass
class Block:
    doc: Path
    line: int  # 1-based line of the block's first line of code in the file
    code: str
    skip_reason: str | None


def extract_blocks(doc: Path, text: str) -> list[Block]:
    """The shell blocks of one Markdown file, in order, with their skip markers."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, language = opening.groups()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence[0] * len(fence)):
            end += 1
        if language in SHELL_LANGUAGES:
            body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[start:end]]
            code = console_commands(body) if language == "console" else body
            blocks.append(Block(doc, start + 1, "\n".join(code) + "\n", skip_reason_before(doc, lines, i)))
        i = end + 1
    return blocks


def skip_reason_before(doc: Path, lines: list[str], fence_index: int) -> str | None:
    previous = fence_index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    marker = SKIP_MARKER.match(lines[previous]) if previous >= 0 else None
    if not marker:
        return None
    reason = SKIP_REASON.match(marker.group(1))
    if not reason or not reason.group(1).strip():
        pytest.fail(
            f"{doc}:{previous + 1}: a skip marker needs a reason: <!-- docs-test: skip (why) -->, got {lines[previous]!r}"
        )
    return reason.group(1).strip()


def console_commands(body: list[str]) -> list[str]:
    """``$ cmd`` lines and their ``\\`` continuations; output lines become blank (keeps line numbers)."""
    code, continued = [], False
    for line in body:
        if continued or line.startswith("$ "):
            # A continuation line may show the shell's secondary prompt "> ".
            command = (line[2:] if line.startswith("> ") else line) if continued else line[2:]
            code.append(command)
            continued = command.rstrip().endswith("\\")
        else:
            code.append("")
    return code


def test_extraction_of_blocks_and_markers() -> None:
    text = (
        "# t\n```sh\necho one\n```\n\n<!-- docs-test: skip (needs azd) -->\n\n```bash\nazd up\n```\n"
        "  ```console\n  $ echo two \\\n  >   three\n  two three\n  ```\n```json\n{}\n```\n"
    )
    blocks = extract_blocks(Path("x.md"), text)
    assert [(b.line, b.skip_reason) for b in blocks] == [(3, None), (9, "needs azd"), (12, None)]
    assert blocks[2].code == "echo two \\\n  three\n\n"
    with pytest.raises(pytest.fail.Exception, match="needs a reason"):
        extract_blocks(Path("x.md"), "<!-- docs-test: skip () -->\n```sh\ntrue\n```\n")


# --- the copy of the repository and the host ---------------------------------------------


def repository_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(ROOT) for p in ROOT.rglob("*") if p.is_file() and not _ignored(p.relative_to(ROOT))]
    return [Path(name) for name in listed.decode().split("\0") if name]


def _ignored(path: Path) -> bool:
    return path.parts[0] in {".git", ".venv", ".venv-infra", "node_modules", ".azurite", ".devkeys"} or (
        "__pycache__" in path.parts
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / ".venv" / ".installed").exists() or not (ROOT / "node_modules" / ".installed").exists():
        pytest.skip("run `make install` first: the copy links .venv and node_modules")
    target = tmp_path_factory.mktemp("clone")
    for relative in repository_files():
        source = ROOT / relative
        if source.is_file() and not source.is_symlink():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    for name in (".venv", "node_modules"):
        (target / name).symlink_to(ROOT / name, target_is_directory=True)
    return target


@pytest.fixture(scope="module")
def docs_host(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    """What ``make run`` serves, on free ports: the copy's settings, its keys, its own Azurite."""
    subprocess.run([sys.executable, "-m", "tools.devtoken", "--ensure-keys"], cwd=clone, check=True)
    values = json.loads((clone / "local.settings.example.json").read_text(encoding="utf-8"))["Values"]
    with own_azurite("azurite-docs-") as azurite:
        env = {
            **values,
            "AzureWebJobsStorage": azurite.connection_string,
            "CorrespondenceStorage": azurite.connection_string,
            "ALTINN_TOKEN_JWKS": str(clone / ".devkeys" / "jwks.json"),
            "MASKINPORTEN_JWKS": str(clone / ".devkeys" / "jwks.json"),
            "RESOURCE_REGISTRY": str(clone / "tools" / "dev-resource-registry.json"),
        }
        host = LocalHost(env, root=clone, log_path=tmp_path_factory.mktemp("docs-host") / "host.log")
        host.start()
        try:
            yield host
        finally:
            host.stop()


# --- running a file's blocks -------------------------------------------------------------


def session_env(port: int) -> dict[str, str]:
    """A user's shell, pointed at ``port``; a ``make run`` in it takes free Azurite ports, so it
    never meets an Azurite of the developer's on the default ones."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    # Nor an activated .venv: the docs must say .venv/bin/altinn-corr, not a bare altinn-corr.
    venvs = {str(ROOT / ".venv" / "bin"), os.path.join(os.environ.get("VIRTUAL_ENV", "/nonexistent"), "bin")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p.rstrip("/") not in venvs)
    env.pop("VIRTUAL_ENV", None)
    azurite_ports = dict(zip(("AZURITE_BLOB_PORT", "AZURITE_QUEUE_PORT", "AZURITE_TABLE_PORT"), map(str, free_ports(3))))
    return {**env, "PORT": str(port), "ALTINN_CORR_BASE_URL": f"http://localhost:{port}", **azurite_ports}


def run_blocks(doc: Path, blocks: list[Block], cwd: Path, port: int, env: dict[str, str], work: Path) -> None:
    """One bash session for the file; on failure, the block, the command and the output."""
    driver = [
        "set -Eeuo pipefail",
        # LINENO is the line inside the sourced block file, so the report can name the doc's line.
        "trap '__docs_rc=$?; echo; echo \"@@docs-test failed: exit $__docs_rc at block line $LINENO: $BASH_COMMAND\" >&2' ERR",
    ]
    for number, block in enumerate(blocks):
        script = work / f"block-{number}.sh"
        script.write_text(block.code.replace(DOCS_PORT, f"localhost:{port}"), encoding="utf-8")
        driver.append(f"printf '\\n@@docs-test block {number}@@\\n'")
        driver.append(f"source {script}")
    (work / "driver.sh").write_text("\n".join(driver) + "\n", encoding="utf-8")
    log_path = work / "output.log"
    # Output to a file, not a pipe: a `make run &` of the README outlives the session and
    # would hold a pipe open.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", str(work / "driver.sh")], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            code = process.wait(timeout=FILE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
            code = None
    output = log_path.read_text(encoding="utf-8", errors="replace")
    if code == 0:
        return
    started = re.findall(r"@@docs-test block (\d+)@@", output)
    number = int(started[-1]) if started else 0
    block = blocks[number]
    block_output = output.rsplit(f"@@docs-test block {number}@@\n", 1)[-1]
    failed = re.search(r"@@docs-test failed: exit (\d+) at block line (\d+): (.*)", block_output)
    where = f"{doc}:{block.line}"
    if failed:
        command_line = block.line + int(failed.group(2)) - 1
        what = f"exit {failed.group(1)} at {doc}:{command_line}: {failed.group(3)}"
    elif code is None:
        what = f"did not finish within {FILE_TIMEOUT} s"
    else:
        what = f"bash exited {code}"
    # bash names a line of the block's file ("block-3.sh: line 2: API: unbound variable"): name the doc's.
    block_output = re.sub(
        rf"{re.escape(str(work))}/block-(\d+)\.sh: line (\d+)",
        lambda m: f"{doc}:{blocks[int(m.group(1))].line + int(m.group(2)) - 1}",
        block_output,
    )
    block_output = re.sub(r"\n?@@docs-test failed: [^\n]*\n?", "\n", block_output)
    if len(block_output) > OUTPUT_TAIL:
        block_output = "…" + block_output[-OUTPUT_TAIL:]
    pytest.fail(
        f"{where}: the block starting on line {block.line} failed: {what}\n--- output ---\n{block_output}",
        pytrace=False,
    )


@pytest.mark.slow
@needs_jq_and_curl
@pytest.mark.parametrize("doc", DOC_FILES, ids=str)
def test_docs_commands_run_as_written(
    doc: Path, clone: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    found = extract_blocks(doc, (ROOT / doc).read_text(encoding="utf-8"))
    blocks = [b for b in found if b.skip_reason is None]
    if not blocks:
        skipped = "; ".join(f"line {b.line}: {b.skip_reason}" for b in found)
        pytest.skip(f"{doc}: no shell block to run" + (f" (skipped by marker: {skipped})" if skipped else ""))
    if doc == Path("README.md"):
        # The README starts its own make run & on free ports; stopped here whatever happened.
        env = session_env(port := free_ports(1)[0])
        try:
            run_blocks(doc, blocks, clone, port, env, tmp_path)
        finally:
            subprocess.run(["make", "--no-print-directory", "stop"], cwd=clone, env=env, capture_output=True, timeout=60)
        return
    host: LocalHost = request.getfixturevalue("docs_host")
    run_blocks(doc, blocks, clone, host.port, session_env(host.port), tmp_path)
