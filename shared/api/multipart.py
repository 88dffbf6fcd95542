"""Parsing a ``multipart/form-data`` body (RFC 7578) into text fields and file parts.

Memory: the host hands the function the whole body as one ``bytes`` object. The parser finds
the part boundaries in it and keeps each file as a ``memoryview`` slice; blocks are staged
from slices of that view and MD5 is computed over it, so no file is copied in full
(``req.files`` would spool every file over 500 KB to a temporary file and read it back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.http import parse_options_header

from shared.core import errors

# Our caps on the form (upstream raises ASP.NET's form limits to their maximum). The largest
# legal request has about 1,700 parts (500 recipients, 100 attachments of 7 fields, ...) and no
# text value over 120 KB (a 30,000-character body in UTF-8).
MAX_PARTS = 10_000
MAX_TEXT_VALUE_BYTES = 1024 * 1024
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_BOUNDARY_LENGTH = 200


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


