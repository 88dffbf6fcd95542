"""Discovery of function folders: every top-level ``*/function.json``, loaded as the host does."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class FunctionDef:
    name: str
    folder: Path
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    entry: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def trigger_type(self) -> str:
        return self.trigger["type"]

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.entry)

    def load(self) -> Callable[..., Any]:
        if self.entry is None:
            config = json.loads((self.folder / "function.json").read_text(encoding="utf-8"))
            script = config.get("scriptFile", "__init__.py")
            module_name = self.name if script == "__init__.py" else f"{self.name}.{Path(script).stem}"
            module = importlib.import_module(module_name)
            self.entry = getattr(module, config.get("entryPoint", "main"))
        return self.entry


def discover(root: Path) -> list[FunctionDef]:
    found = []
    for config_path in sorted(root.glob("*/function.json")):
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("disabled"):
            continue
        bindings = config.get("bindings", [])
        triggers = [b for b in bindings if b.get("type", "").endswith("Trigger")]
        if len(triggers) != 1:
            raise ValueError(f"{config_path}: expected exactly one trigger binding")
        found.append(FunctionDef(config_path.parent.name, config_path.parent, triggers[0], bindings))
    return found


async def invoke(function: FunctionDef, argument: Any, executor: Any) -> Any:
    """Sync functions run in the thread pool, async ones on the event loop (as the worker does)."""
    entry = function.load()
    kwargs = {function.trigger["name"]: argument}
    if function.is_async:
        return await entry(**kwargs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, lambda: entry(**kwargs))
