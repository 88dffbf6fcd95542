"""Initialize correspondences with their files in one ``multipart/form-data`` request
(``POST /correspondence/api/v1/correspondence/upload``, spec §3.10).

The flow, with the JSON endpoint's guarantees (no correspondence when any step fails)::

    parse the body (memoryview slices, no copies of the files)
    -> bind the form fields by model path -> the JSON endpoint's models (400 STD-00000, 3023)
    -> every rule of §3.5 in upstream's order (``initialize_correspondence.prepare``), with the
       multipart checks of steps 21-22: file-name rules, files matched to metadata (1005),
       per-file size (2004), expiration (2017)
    -> declared checksums verified (2008, step 27) before anything is stored
    -> each file stored as a new attachment (``Initialized`` -> ``UploadProcessing`` -> MD5 ->
       ``Published`` when no malware scanner is configured)
    -> ``initialize_correspondence.commit``: correspondences stored and queued, all or nothing.

If storing a file or the commit fails, the files already stored remain as attachments (as
upstream) but no correspondence exists.

Form binding (ASP.NET Core model binding, reproduced)
-----------------------------------------------------
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

Files
-----
Parts named ``attachments`` (any case) with a non-empty ``filename`` (``filename*`` wins) are
the files, in form order. Per file: 1 byte .. 2,000,000,000 bytes (2004, upstream's limit);
the real limit is the host's: the Functions HTTP trigger refuses a request body over 100 MB
(104,857,600 bytes) with 413 before the function runs, so all files together (plus the form)
must stay under that. Larger files: ``POST /attachment`` + chunked upload, then
``existingAttachments`` (docs/attachments.md).

Memory: the host hands the function the whole body as one ``bytes`` object. The parser finds
the part boundaries in it and keeps each file as a ``memoryview`` slice; blocks are staged
from slices of that view and MD5 is computed over it, so no file is copied in full
(``req.files`` would spool every file over 500 KB to a temporary file and read it back).
"""

from __future__ import annotations

import hashlib
import logging
import re
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import BaseModel

from shared import errors
from shared.attachment_rules import check_expiration_days, check_file_name
from shared.auth import Caller
from shared.correspondence_models import (
    CorrespondenceAttachment,
    InitializeCorrespondencesRequest,
    InitializeCorrespondencesResponse,
    parse_initialize_request,
)
from shared.initialize_correspondence import NewAttachments, PreparedRequest, commit, prepare

logger = logging.getLogger(__name__)

MAX_FILE_SIZE = 2_000_000_000  # upstream's per-file limit for the multipart variant (2004)
MAX_FILE_SIZE_TEXT = "2GB"
FILE_FIELD = "attachments"

# Our caps on the form (upstream raises ASP.NET's form limits to their maximum). The largest
# legal request has about 1,700 parts (500 recipients, 100 attachments of 7 fields, ...) and no
# text value over 120 KB (a 30,000-character body in UTF-8).
MAX_PARTS = 10_000
MAX_TEXT_VALUE_BYTES = 1024 * 1024
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_BOUNDARY_LENGTH = 200
MAX_INDEX = 100_000
STORE_CONCURRENCY = 4  # files stored at a time (each stages up to 4 blocks in parallel)

_pool = ThreadPoolExecutor(max_workers=STORE_CONCURRENCY, thread_name_prefix="multipart")


# --- the multipart body -----------------------------------------------------------------------
@dataclass
class FilePart:
    name: str
    filename: str
    data: memoryview  # a slice of the request body


@dataclass
class Form:
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)


def _shape_error(message: str, path: str = "$") -> errors.RequestValidationError:
    return errors.RequestValidationError([errors.FieldError(path, message)])


_NOT_MULTIPART = "The request body is not valid multipart/form-data."


def _boundary(content_type: str) -> bytes:
    from werkzeug.http import parse_options_header

    _, options = parse_options_header(content_type or "")
    boundary = options.get("boundary") or ""
    if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH or not boundary.isascii():
        raise _shape_error("The Content-Type must carry a multipart boundary (1 to 200 ASCII characters).")
    return boundary.encode("ascii")


def _part_headers(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    headers: dict[str, str] = {}
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    return headers


def parse_multipart(body: bytes, content_type: str) -> Form:
    """Split a ``multipart/form-data`` body (RFC 7578) into text fields and file parts.

    File contents are ``memoryview`` slices of ``body`` (no copies); text values are decoded
    as UTF-8. Malformed bodies raise a request-shape error (400 ``STD-00000``).
    """
    from werkzeug.http import parse_options_header

    delimiter = b"--" + _boundary(content_type)
    next_delimiter = b"\r\n" + delimiter
    view = memoryview(body)
    if body.startswith(delimiter):
        position = 0
    else:  # a preamble, then CRLF and the first delimiter
        position = body.find(next_delimiter)
        if position < 0:
            raise _shape_error(_NOT_MULTIPART)
        position += 2
    form = Form()
    parts = 0
    while True:
        position += len(delimiter)
        if body[position:position + 2] == b"--":
            return form  # the close delimiter; an epilogue is ignored
        line_end = body.find(b"\r\n", position, position + 1024)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise _shape_error(_NOT_MULTIPART)
        headers_start = line_end + 2
        if body[headers_start:headers_start + 2] == b"\r\n":
            headers_end, content_start = headers_start, headers_start + 2
        else:
            headers_end = body.find(b"\r\n\r\n", headers_start, headers_start + MAX_PART_HEADER_BYTES)
            if headers_end < 0:
                raise _shape_error(_NOT_MULTIPART)
            content_start = headers_end + 4
        content_end = body.find(next_delimiter, content_start)
        if content_end < 0:
            raise _shape_error(_NOT_MULTIPART)
        parts += 1
        if parts > MAX_PARTS:
            raise _shape_error(f"The form may have at most {MAX_PARTS} parts.")
        headers = _part_headers(body[headers_start:headers_end])
        disposition, options = parse_options_header(headers.get("content-disposition", ""))
        name = options.get("name")
        if disposition.lower() == "form-data" and name is not None:
            filename = options.get("filename")
            if filename:  # as ASP.NET Core: a part is a file when it has a non-empty file name
                form.files.append(FilePart(name, filename, view[content_start:content_end]))
            else:
                length = content_end - content_start
                if length > MAX_TEXT_VALUE_BYTES:
                    raise _shape_error(f"A form value may be at most {MAX_TEXT_VALUE_BYTES} bytes long.", name)
                try:
                    value = body[content_start:content_end].decode("utf-8")
                except UnicodeDecodeError:
                    raise _shape_error("The form value is not valid UTF-8.", name) from None
                form.fields.append((name, value))
        position = content_end + 2


# --- binding form fields by model path ---------------------------------------------------------
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


# --- files against metadata (steps 21-22) -------------------------------------------------------
def match_files(attachments: list[CorrespondenceAttachment], files: list[FilePart]) -> list[FilePart]:
    """The file of each metadata entry (§3.10), or 1005.

    The i-th entry takes the i-th file when the names are equal; otherwise the file with that
    exact name if exactly one file has it and it is still unused. Counts must be equal.
    Duplicated names in the same order as the metadata match; out of order they are ambiguous.
    """
    if len(files) != len(attachments):
        raise errors.FILES_DO_NOT_MATCH_ATTACHMENTS.error()
    by_name: dict[str, list[int]] = {}
    for index, file in enumerate(files):
        by_name.setdefault(file.filename, []).append(index)
    used: set[int] = set()
    matched: list[FilePart] = []
    for index, attachment in enumerate(attachments):
        name = attachment.file_name
        if files[index].filename == name and index not in used:
            chosen = index
        else:
            candidates = by_name.get(name or "", [])
            if len(candidates) != 1 or candidates[0] in used:
                raise errors.FILES_DO_NOT_MATCH_ATTACHMENTS.error()
            chosen = candidates[0]
        used.add(chosen)
        matched.append(files[chosen])
    return matched


def _file_size_error() -> errors.ProblemError:
    entry = errors.INVALID_FILE_SIZE
    return entry.error(detail=entry.message.format(limit=MAX_FILE_SIZE_TEXT))


class NewFiles:
    """``check_new_attachments`` for ``prepare`` (steps 21-22); remembers the matched files."""

    def __init__(self, files: list[FilePart]) -> None:
        self.files = files
        self.matched: list[tuple[CorrespondenceAttachment, FilePart]] = []

    @property
    def total_size(self) -> int:
        return sum(len(file.data) for file in self.files)

    def __call__(self, request: InitializeCorrespondencesRequest) -> None:
        attachments = request.correspondence.content.attachments
        for attachment in attachments:  # 2010, 2011, 2013, 2012, 2021
            check_file_name(attachment.file_name)
        files = match_files(attachments, self.files)  # 1005
        for file in files:  # 2004
            if not 1 <= len(file.data) <= MAX_FILE_SIZE:
                raise _file_size_error()
        for attachment in attachments:  # step 22: 2017
            check_expiration_days(attachment.expiration_in_days)
        self.matched = list(zip(attachments, files))

    def check_checksums(self) -> None:
        """Step 27's 2008, before anything is stored (upstream stores the file first, fails
        it and deletes the blob; we leave nothing behind)."""
        for attachment, file in self.matched:
            declared = (attachment.checksum or "").strip().lower()
            if declared and hashlib.md5(file.data, usedforsecurity=False).hexdigest() != declared:
                raise errors.CHECKSUM_MISMATCH.error()


# --- the use case -------------------------------------------------------------------------------
def _store_files(prepared: PreparedRequest, new_files: NewFiles) -> NewAttachments:
    """Each matched file as a new attachment, a few at a time; the first failure (in metadata
    order) is raised once every started upload has ended. Stored files stay stored."""
    from shared import attachment_store, attachments

    resource_id = prepared.request.correspondence.resource_id

    def store(item: tuple[CorrespondenceAttachment, FilePart]):
        metadata, file = item
        attachment_id = attachments.create_attachment(resource_id, prepared.sender, metadata)
        return attachments.upload_new_file(attachment_id, file.data)

    futures = [_pool.submit(store, item) for item in new_files.matched]
    records, failure = [], None
    for future in futures:
        try:
            records.append(future.result())
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others end
            failure = failure or exc
    if failure is not None:
        logger.warning("multipart initialize: %d of %d files stored before a failure", len(records), len(futures))
        raise failure
    return NewAttachments(
        ids=[record.id for record in records],
        all_published=all(attachment_store.current_status(r) == attachment_store.PUBLISHED for r in records),
    )


def initialize_multipart(caller: Caller, body: bytes, content_type: str) -> InitializeCorrespondencesResponse:
    """The whole multipart initialize (see the module docstring)."""
    form = parse_multipart(body, content_type)
    request = parse_form_request(form.fields)
    new_files = NewFiles([f for f in form.files if f.name.lower() == FILE_FIELD])
    prepared = prepare(
        caller, request, check_new_attachments=new_files, new_files_total_size=new_files.total_size
    )
    new_files.check_checksums()
    new_attachments = _store_files(prepared, new_files) if new_files.matched else NewAttachments()
    response = commit(prepared, new_attachments)
    logger.info(
        "multipart initialize: %d correspondences, %d new attachments",
        len(response.correspondences), len(new_attachments.ids),
    )
    return response


__all__ = [
    "FilePart",
    "Form",
    "NewFiles",
    "bind_form",
    "form_path",
    "initialize_multipart",
    "match_files",
    "parse_form_request",
    "parse_multipart",
]
