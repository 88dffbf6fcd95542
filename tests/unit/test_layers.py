"""The shape of ``shared/`` (see its docstring): imports go one way between the layers, no import
cycles, small modules, imports at the top, and thin function folders.

Read from the source with ``ast`` (nothing is imported), so a deferred import inside a function
counts as much as one at the top. Each check reports every offender at once; each is also run
on a small planted tree (``test_each_check_reports_a_planted_offender``), so that none of them
can pass by seeing nothing.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Which layers (subpackages of ``shared``) each layer may import, besides itself.
ALLOWED_LAYERS: dict[str, set[str]] = {
    "core": set(),
    "models": {"core"},
    "rules": {"models", "core"},
    "integrations": {"core"},
    "storage": {"core"},
    "auth": {"core", "integrations"},
    "use_cases": {"core", "models", "rules", "integrations", "storage", "auth"},
    "api": {"auth", "models", "core"},
}

MAX_LINES = 400
# module path -> why it may be longer for now. An entry whose module is short again fails
# (remove it).
LONG_MODULES: dict[str, str] = {
    "shared/storage/correspondence_store.py": (
        "~430 lines; being rewritten by another engineer, who splits it: drop this entry then"
    ),
}

# (module, imported module) -> why that import is deferred into a function. An entry that no
# longer occurs fails (remove it).
LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("shared.storage.clients", "azure.identity"): (
        "about 80 ms to import and only needed with identity-based storage settings, never with "
        "a connection string (see the module docstring)"
    ),
}

# What a function folder (``*/function.json`` + ``__init__.py``) may import: parse the request,
# call one use case, build the response.
FUNCTION_FOLDER_IMPORTS = ("azure.functions", "uuid", "shared.core.errors")
FUNCTION_FOLDER_PACKAGES = ("shared.api", "shared.use_cases", "shared.models")


# --- reading the source ----------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name, resolved to a submodule where one is named
    path: str  # of the importer, relative to the root
    line: int
    local: bool  # inside a function body

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} ({self.path}:{self.line})"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def shared_modules(root: Path) -> dict[str, Path]:
    """Every module of ``shared``: dotted name -> file."""
    return {module_name(path, root): path for path in sorted((root / "shared").rglob("*.py"))}


def function_folders(root: Path) -> dict[str, Path]:
    """Every function folder at the root: dotted name -> its ``__init__.py``."""
    return {
        folder.name: folder / "__init__.py"
        for folder in sorted(p.parent for p in root.glob("*/function.json"))
    }


class _Collector(ast.NodeVisitor):
    def __init__(self, importer: str, is_package: bool, known: set[str], path: str) -> None:
        self.importer, self.is_package, self.known, self.path = importer, is_package, known, path
        self.depth = 0  # function nesting
        self.found: list[Import] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, node: ast.stmt, imported: str) -> None:
        if imported != "__future__":
            self.found.append(Import(self.importer, imported, self.path, node.lineno, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.importer.split(".")
            if not self.is_package:
                package.pop()
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        for alias in node.names:
            # ``from shared.core import errors`` imports the module shared.core.errors
            submodule = f"{base}.{alias.name}"
            self._add(node, submodule if submodule in self.known else base)


def imports_of(path: Path, root: Path, known: set[str]) -> list[Import]:
    collector = _Collector(module_name(path, root), path.name == "__init__.py", known, str(path.relative_to(root)))
    collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return collector.found


def all_imports(root: Path) -> list[Import]:
    modules = shared_modules(root)
    known = set(modules)
    return [found for path in modules.values() for found in imports_of(path, root, known)]


# --- the checks (each returns its offenders, as text) ----------------------------------------


def layer_of(module: str) -> str | None:
    """``shared.<layer>...`` -> layer; ``shared`` itself -> "" ; outside shared -> None."""
    parts = module.split(".")
    if parts[0] != "shared":
        return None
    return parts[1] if len(parts) > 1 else ""


def layer_violations(root: Path) -> list[str]:
    unplaced = {layer_of(module) for module in shared_modules(root)} - set(ALLOWED_LAYERS) - {""}
    problems = [f"shared.{layer}: not a layer of ALLOWED_LAYERS (place it there)" for layer in sorted(unplaced)]
    for found in all_imports(root):
        source, target = layer_of(found.importer), layer_of(found.imported)
        if target is None or source == target:
            continue
        if target not in ALLOWED_LAYERS.get(source, set()):
            problems.append(str(found))
    return problems


def import_cycles(root: Path) -> list[str]:
    """Cycles in the graph of module-level imports between modules of ``shared``."""
    known = set(shared_modules(root))
    graph: dict[str, set[str]] = defaultdict(set)
    for found in all_imports(root):
        if not found.local and found.imported in known and found.imported != found.importer:
            graph[found.importer].add(found.imported)

    # Tarjan's strongly connected components; each with more than one module holds a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                connect(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(known):
        if node not in index:
            connect(node)

    cycles = []
    for component in components:
        start = min(component)
        # The shortest way back to the start within the component is one concrete cycle.
        paths = {start: [start]}
        frontier = [start]
        cycle: list[str] | None = None
        while frontier and cycle is None:
            following = []
            for node in frontier:
                for successor in sorted(graph[node] & component):
                    if successor == start:
                        cycle = paths[node] + [start]
                        break
                    if successor not in paths:
                        paths[successor] = paths[node] + [successor]
                        following.append(successor)
                if cycle:
                    break
            frontier = following
        assert cycle is not None
        cycles.append(" -> ".join(cycle) + f"  (modules in the tangle: {', '.join(sorted(component))})")
    return cycles


def long_modules(root: Path) -> list[str]:
    problems = []
    for path in shared_modules(root).values():
        relative = str(path.relative_to(root))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and relative not in LONG_MODULES:
            problems.append(f"{relative}: {lines} lines (at most {MAX_LINES})")
        elif lines <= MAX_LINES and relative in LONG_MODULES:
            problems.append(f"{relative}: {lines} lines now; remove it from LONG_MODULES")
    for relative in sorted(set(LONG_MODULES) - {str(p.relative_to(root)) for p in shared_modules(root).values()}):
        problems.append(f"{relative}: no such module; remove it from LONG_MODULES")
    return problems


def local_imports(root: Path) -> list[str]:
    found = [i for i in all_imports(root) if i.local]
    problems = [
        f"{i}: move it to the top of the module, or list it in LOCAL_IMPORTS with the reason"
        for i in found
        if (i.importer, i.imported) not in LOCAL_IMPORTS
    ]
    seen = {(i.importer, i.imported) for i in found}
    problems += [f"{a} -> {b}: no longer imported in a function; remove it from LOCAL_IMPORTS"
                 for a, b in sorted(set(LOCAL_IMPORTS) - seen)]
    return problems


def function_folder_imports(root: Path) -> list[str]:
    known = set(shared_modules(root))
    problems = []
    for name, path in function_folders(root).items():
        if not path.exists():
            problems.append(f"{name}: no __init__.py")
            continue
        for found in imports_of(path, root, known):
            imported = found.imported
            if imported in FUNCTION_FOLDER_IMPORTS or any(
                imported == package or imported.startswith(package + ".") for package in FUNCTION_FOLDER_PACKAGES
            ):
                continue
            problems.append(str(found))
    return problems


# --- on this repository ----------------------------------------------------------------------


def test_the_scan_sees_the_layers_and_the_function_folders() -> None:
    layers = {layer_of(module) for module in shared_modules(ROOT)}
    assert layers == set(ALLOWED_LAYERS) | {""}
    assert len(function_folders(ROOT)) >= 17
    assert any(found.imported == "shared.core.errors" for found in all_imports(ROOT))


def test_imports_go_one_way_between_layers() -> None:
    problems = layer_violations(ROOT)
    assert not problems, "imports against the layering (shared/__init__.py):\n" + "\n".join(problems)


def test_no_import_cycles_between_modules() -> None:
    cycles = import_cycles(ROOT)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_module_over_400_lines() -> None:
    problems = long_modules(ROOT)
    assert not problems, "\n".join(problems)


def test_imports_are_at_the_top_of_modules() -> None:
    problems = local_imports(ROOT)
    assert not problems, "imports inside functions:\n" + "\n".join(problems)


def test_function_folders_are_thin() -> None:
    problems = function_folder_imports(ROOT)
    assert not problems, (
        "function folders import only azure.functions, uuid, shared.api, shared.use_cases, "
        "shared.models and shared.core.errors:\n" + "\n".join(problems)
    )


# --- the checks themselves -------------------------------------------------------------------


def _plant(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN = {
    "shared/__init__.py": "",
    **{f"shared/{layer}/__init__.py": "" for layer in ALLOWED_LAYERS},
    "shared/core/errors.py": "import json\n",
    "shared/models/thing.py": "from shared.core import errors\n",
    "shared/storage/clients.py": "def credential():\n    from azure.identity import X\n",
    "shared/storage/correspondence_store.py": "x = 1\n" * (MAX_LINES + 1),
    "health/function.json": "{}",
    "health/__init__.py": "import azure.functions as func\nfrom shared.api.http import api\nfrom shared.core import errors\n",
}


@pytest.mark.parametrize(
    ("check", "planted", "expected"),
    [
        (layer_violations, {"shared/core/statuses.py": "from shared.models import thing\n"},
         "shared.core.statuses -> shared.models.thing (shared/core/statuses.py:1)"),
        (layer_violations, {"shared/rules/x.py": "def f():\n    from ..storage import clients\n"},
         "shared.rules.x -> shared.storage.clients (shared/rules/x.py:2)"),
        (layer_violations, {"shared/helpers/__init__.py": ""}, "shared.helpers: not a layer of ALLOWED_LAYERS"),
        (import_cycles, {"shared/core/a.py": "from shared.core import b\n", "shared/core/b.py": "import shared.core.a\n"},
         "shared.core.a -> shared.core.b -> shared.core.a"),
        (long_modules, {"shared/core/errors.py": "x = 1\n" * (MAX_LINES + 1)}, "shared/core/errors.py: 401 lines"),
        (long_modules, {"shared/storage/correspondence_store.py": "x = 1\n"}, "remove it from LONG_MODULES"),
        (local_imports, {"shared/core/errors.py": "def f():\n    import json\n"},
         "shared.core.errors -> json (shared/core/errors.py:2): move it to the top"),
        (local_imports, {"shared/storage/clients.py": "from azure.identity import X\n"},
         "shared.storage.clients -> azure.identity: no longer imported in a function"),
        (function_folder_imports, {"health/__init__.py": "from shared.storage import clients\n"},
         "health -> shared.storage.clients (health/__init__.py:1)"),
        (function_folder_imports, {"health/__init__.py": "def main():\n    from shared.core import settings\n",
                                   "shared/core/settings.py": ""},
         "health -> shared.core.settings (health/__init__.py:2)"),
    ],
)
def test_each_check_reports_a_planted_offender(tmp_path: Path, check, planted: dict[str, str], expected: str) -> None:
    clean = _plant(tmp_path / "clean", CLEAN)
    assert check(clean) == []
    dirty = _plant(tmp_path / "dirty", {**CLEAN, **planted})
    problems = check(dirty)
    assert any(expected in problem for problem in problems), problems
