"""Route templates of ``function.json`` HTTP triggers, matched as the Functions host does.

Supported: literal segments (case-insensitive), ``{name}``, typed constraints
(``{id:guid}``, ``:int``, ``:long``, ``:bool``, ``:alpha``, ``:double``), optional ``{name?}``
and catch-all ``{*rest}``. More literal routes win over more general ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONSTRAINTS = {
    "guid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
}
_PARAM = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(\?)?(?::([a-z]+)(?:\([^)]*\))?)?\}$")


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    rank: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path.strip("/"))
        if found is None:
            return None
        return {name: value for name, value in found.groupdict().items() if value is not None}


def compile_route(template: str) -> Route:
    segments = [s for s in template.strip("/").split("/") if s != ""]
    regex = ""
    rank: list[int] = []
    for index, segment in enumerate(segments):
        sep = "/" if index else ""
        param = _PARAM.match(segment)
        if param is None:
            if "{" in segment:
                raise ValueError(f"unsupported route segment {segment!r} in {template!r}")
            regex += sep + re.escape(segment)
            rank.append(0)
            continue
        catch_all, name, optional, constraint = param.groups()
        if catch_all:
            regex += f"(?:{sep}(?P<{name}>.*))?"
            rank.append(3)
            continue
        body = _CONSTRAINTS.get(constraint or "", r"[^/]+")
        group = f"(?P<{name}>{body})"
        regex += f"(?:{sep}{group})?" if optional else sep + group
        rank.append(1 if constraint else 2)
    return Route(template, re.compile(f"^(?i:{regex})$" if regex else "^$"), tuple(rank))


def sort_routes(routes: list[Route]) -> list[Route]:
    """Literal segments first, then constrained parameters, then plain ones, then catch-alls."""
    return sorted(routes, key=lambda r: (r.rank, -len(r.rank)))


def parameters(template: str) -> list[tuple[str, str]]:
    """(name, constraint) of a template's parameters, in order (constraint "" when none)."""
    found = []
    for segment in template.strip("/").split("/"):
        param = _PARAM.match(segment)
        if param is not None:
            found.append((param.group(2), param.group(4) or ""))
    return found


def openapi_path(template: str) -> str:
    """``a/{id:guid}/b`` -> ``/a/{id}/b`` (OpenAPI path templates carry no constraints)."""
    segments = []
    for segment in template.strip("/").split("/"):
        param = _PARAM.match(segment)
        segments.append("{" + param.group(2) + "}" if param is not None else segment)
    return "/" + "/".join(segments)
