"""Binding form fields to the initialize request models by model path (ASP.NET Core model
binding, reproduced), for ``POST /correspondence/api/v1/correspondence/upload``.

Field names are model paths, matched case-insensitively: ``recipients[0]``,
``correspondence.content.attachments[0].fileName``, ``correspondence.propertyList[key]``,
``correspondence.notification.customRecipients[0].emailAddress``. A list of simple values
may also be sent as the repeated unindexed name (``recipients=a``, ``recipients=b``).
Strings are converted where the model wants another type: ``true``/``false`` (any case) for
booleans, decimal integers for ``expirationInDays``; enums, GUIDs and timestamps are strings
already. An empty value is null (``ConvertEmptyStringToNull``). When a name repeats, the first
value wins. Unknown names are ignored.

Difference from upstream: indexes may be sparse and in any order; items are taken in index
order (upstream stops silently at the first gap and drops the rest). Request-shape errors
name the form field as sent, e.g. ``recipients[3]``.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import BaseModel

from shared.api.multipart import FilePart, parse_multipart
from shared.core import errors
from shared.models.correspondence import (
    InitializeCorrespondencesRequest,
    parse_initialize_request,
)

MAX_INDEX = 100_000
FILE_FIELD = "attachments"


@dataclass(frozen=True)
class _Node:
    kind: str  # "model" | "list" | "dict" | "leaf"
    model: Any = None  # the pydantic model class (kind "model")
    item: Optional["_Node"] = None  # list items / dict values
    leaf: str = "str"  # "str" | "bool" | "int" (kind "leaf")

    @property
    def children(self) -> dict[str, tuple[str, "_Node"]]:
        """lower-cased alias -> (alias, node) of a model node."""
        return _children(self.model)


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is None:
            return annotation
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin is Union or origin is types.UnionType:
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0]
            continue
        return annotation


def _node_for(annotation: Any) -> _Node:
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is list:
        return _Node("list", item=_node_for(get_args(annotation)[0]))
    if origin is dict:
        return _Node("dict", item=_node_for(get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Node("model", model=annotation)
    if annotation is bool:
        return _Node("leaf", leaf="bool")
    if annotation is int:  # not IntEnum: enums take their names and numbers as strings
        return _Node("leaf", leaf="int")
    return _Node("leaf")


@lru_cache(maxsize=None)
def _children(model: type[BaseModel]) -> dict[str, tuple[str, _Node]]:
    result = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        result[alias.lower()] = (alias, _node_for(info.annotation))
    return result


ROOT = _Node("model", model=InitializeCorrespondencesRequest)
_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


def _segments(key: str) -> Optional[list[tuple[str, str]]]:
    """``a.b[0].c[key]`` -> [("name", "a"), ("name", "b"), ("index", "0"), ...]; None when
    the name is not a model path."""
    result: list[tuple[str, str]] = []
    position = 0
    while position < len(key):
        found = _SEGMENT.match(key, position)
        if found is None or (found.group(1) is not None and position > 0 and key[position] != "."):
            return None
        if found.group(1) is not None:
            result.append(("name", found.group(1)))
        else:
            result.append(("index", found.group(2)))
        position = found.end()
    return result or None


class _Acc:
    """What the form says about one node, before it becomes JSON-like data."""

    def __init__(self, node: _Node) -> None:
        self.node = node
        self.children: dict[Any, _Acc] = {}  # model: alias; list: int index; dict: key
        self.values: list[str] = []  # leaf values, or a list's unindexed values

    def child(self, key: Any, node: _Node) -> "_Acc":
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = _Acc(node)
        return found


def _leaf(node: _Node, value: Optional[str]) -> Any:
    if value is None or value == "":
        return None  # ASP.NET Core: an empty value is null
    if node.leaf == "bool":
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    elif node.leaf == "int":
        if re.fullmatch(r"\s*[+-]?[0-9]{1,10}\s*", value):
            return int(value)
    return value  # the model refuses it with a message and the path


@dataclass
class BoundForm:
    data: dict[str, Any]
    # Model path of a list (aliases and positions) -> the form indexes of its items, in order.
    indexes: dict[tuple[Any, ...], list[int]]


def _resolve(key: str) -> Optional[list[tuple[Any, _Node]]]:
    """The steps (child key, node) from the root to the value a form name addresses; None
    when the name is not a path of the model or does not end at a value."""
    segments = _segments(key)
    if segments is None:
        return None
    steps: list[tuple[Any, _Node]] = []
    node = ROOT
    for kind, text in segments:
        if kind == "name" and node.kind == "model":
            found = node.children.get(text.lower())
            if found is None:
                return None
            child_key, node = found
        elif kind == "index" and node.kind == "list" and text.isdigit() and int(text) <= MAX_INDEX:
            child_key, node = int(text), node.item
        elif kind == "index" and node.kind == "dict" and text:
            child_key, node = text, node.item
        else:
            return None
        steps.append((child_key, node))
    if node.kind == "leaf" or (node.kind == "list" and node.item.kind == "leaf"):
        return steps
    return None


def bind_form(fields: list[tuple[str, str]]) -> BoundForm:
    """Form fields -> the JSON-like request the models validate (see the module docstring)."""
    root = _Acc(ROOT)
    for key, value in fields:
        steps = _resolve(key)
        if steps is None:
            continue  # not a model path: ignored, as by model binding
        target = root
        for child_key, node in steps:
            target = target.child(child_key, node)
        target.values.append(value)
    indexes: dict[tuple[Any, ...], list[int]] = {}
    return BoundForm(_materialize(root, (), indexes), indexes)


def _materialize(acc: _Acc, path: tuple[Any, ...], indexes: dict[tuple[Any, ...], list[int]]) -> Any:
    node = acc.node
    if node.kind == "leaf":
        return _leaf(node, acc.values[0] if acc.values else None)
    if node.kind == "model":
        return {alias: _materialize(child, path + (alias,), indexes) for alias, child in acc.children.items()}
    if node.kind == "dict":
        return {key: _materialize(child, path + (key,), indexes) for key, child in acc.children.items()}
    # a list: unindexed values (simple items only) take precedence, as in ASP.NET Core
    if acc.values:
        indexes[path] = list(range(len(acc.values)))
        return [_leaf(node.item, value) for value in acc.values]
    order = sorted(acc.children)
    indexes[path] = order
    return [_materialize(acc.children[i], path + (position,), indexes) for position, i in enumerate(order)]


_JSON_PATH = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def form_path(json_path: str, indexes: dict[tuple[Any, ...], list[int]]) -> str:
    """``$.recipients[1]`` -> ``recipients[3]`` when the second recipient was ``recipients[3]``."""
    if not json_path.startswith("$"):
        return json_path
    rest = json_path[1:]
    model_path: tuple[Any, ...] = ()
    parts: list[str] = []
    position = 0
    while position < len(rest):
        found = _JSON_PATH.match(rest, position)
        if found is None:
            return json_path
        if found.group(1) is not None:
            model_path += (found.group(1),)
            parts.append(("." if parts else "") + found.group(1))
        else:
            item = int(found.group(2))
            original = indexes.get(model_path)
            shown = original[item] if original is not None and item < len(original) else item
            model_path += (item,)
            parts.append(f"[{shown}]")
        position = found.end()
    return "".join(parts) or "$"


def parse_form_request(fields: list[tuple[str, str]]) -> InitializeCorrespondencesRequest:
    """Bind and validate: 400 ``STD-00000`` with the form field names, or 3023."""
    bound = bind_form(fields)
    try:
        return parse_initialize_request(bound.data)
    except errors.RequestValidationError as exc:
        raise errors.RequestValidationError(
            [errors.FieldError(form_path(e.path, bound.indexes), e.message) for e in exc.errors]
        ) from None




@dataclass
class MultipartRequest:
    request: InitializeCorrespondencesRequest
    files: list[FilePart]  # the parts named ``attachments`` (any case), in form order


def parse_form(body: bytes, content_type: str) -> MultipartRequest:
    """Parse and bind a multipart initialize: 400 ``STD-00000`` (form field names) or 3023."""
    form = parse_multipart(body, content_type)
    request = parse_form_request(form.fields)
    return MultipartRequest(request, [f for f in form.files if f.name.lower() == FILE_FIELD])
