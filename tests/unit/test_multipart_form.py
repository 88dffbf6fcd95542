"""Multipart parsing, form binding by model path and file matching (no storage)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from shared.core import errors
from shared.models.correspondence import CorrespondenceAttachment, InitializeCorrespondencesRequest
from shared.api.form_binding import ROOT, _children, _resolve, bind_form, form_path, parse_form_request
from shared.api.multipart import MAX_PARTS, MAX_TEXT_VALUE_BYTES, FilePart, parse_multipart
from shared.rules.new_files import match_files

CT = "multipart/form-data; boundary=XyZ"


def part(name: str, value: bytes, filename: str | None = None, extra: bytes = b"") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    return b"--XyZ\r\nContent-Disposition: " + disposition.encode() + b"\r\n" + extra + b"\r\n" + value + b"\r\n"


def body(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    return preamble + b"".join(parts) + b"--XyZ--\r\n" + epilogue


# --- parsing ---------------------------------------------------------------------------------
def test_fields_and_files_are_split_and_files_are_views_of_the_body() -> None:
    raw = body(
        part("a", "æ".encode()),
        part("attachments", b"\x00\r\n--Xy binary\r\n", filename="f.bin", extra=b"Content-Type: application/octet-stream\r\n"),
        part("empty", b""),
        preamble=b"ignored preamble\r\n",
        epilogue=b"ignored epilogue",
    )
    form = parse_multipart(raw, CT)
    assert form.fields == [("a", "æ"), ("empty", "")]
    [file] = form.files
    assert (file.name, file.filename, bytes(file.data)) == ("attachments", "f.bin", b"\x00\r\n--Xy binary\r\n")
    assert file.data.obj is raw  # a slice of the request body, not a copy


def test_quoted_boundary_padding_and_a_part_without_headers() -> None:
    raw = b'--a b  \r\n\r\nno headers\r\n--a b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--a b--'
    form = parse_multipart(raw, 'multipart/form-data; boundary="a b"')
    assert form.fields == [("x", "1")]


def test_an_empty_file_name_makes_a_text_value_and_filename_star_wins() -> None:
    raw = body(
        part("attachments", b"text", filename=""),
        b"--XyZ\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"; "
        b"filename*=UTF-8''%C3%A6.txt\r\n\r\nfile\r\n",
    )
    form = parse_multipart(raw, CT)
    assert form.fields == [("attachments", "text")]
    assert [(f.filename, bytes(f.data)) for f in form.files] == [("æ.txt", b"file")]


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"", CT),
        (b"no delimiter at all", CT),
        (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", CT),
        (b"--XyZjunk\r\n\r\nx\r\n--XyZ--", CT),
        (b"--XyZ\r\n" + b"X-Long: " + b"a" * 20000 + b"\r\n\r\nx\r\n--XyZ--", CT),
        (body(part("a", b"1")), "multipart/form-data"),
        (body(part("a", b"1")), "multipart/form-data; boundary=" + "b" * 201),
        (body(part("a", b"\xff\xfe")), CT),
    ],
)
def test_malformed_bodies_are_request_shape_errors(raw: bytes, content_type: str) -> None:
    with pytest.raises(errors.RequestValidationError):
        parse_multipart(raw, content_type)


def test_part_count_and_text_size_are_capped() -> None:
    with pytest.raises(errors.RequestValidationError):
        parse_multipart(body(*[part("a", b"1")] * (MAX_PARTS + 1)), CT)
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_multipart(body(part("big", b"a" * (MAX_TEXT_VALUE_BYTES + 1))), CT)
    assert caught.value.errors[0].path == "big"
    # files are not capped here (2004 and the host's 100 MB decide)
    assert len(parse_multipart(body(part("f", b"a" * (MAX_TEXT_VALUE_BYTES + 1), filename="f.txt")), CT).files) == 1


# --- binding -----------------------------------------------------------------------------------
def _all_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for alias, (_, node) in ((a, v) for a, v in _children(model).items()):
        path = f"{prefix}.{alias}" if prefix else alias
        while node.kind in ("list", "dict"):
            path += "[0]" if node.kind == "list" else "[key]"
            node = node.item
        if node.kind == "model":
            paths += _all_paths(node.model, path)
        else:
            paths.append(path)
    return paths


def test_every_model_field_has_a_form_path() -> None:
    paths = _all_paths(InitializeCorrespondencesRequest)
    assert len(paths) > 50
    assert all(_resolve(path) is not None for path in paths)
    assert "correspondence.notification.customnotificationrecipients[0].recipients[0].isreserved" in paths


def test_leaf_types_come_from_the_models() -> None:
    kinds = {key: _resolve(key)[-1][1].leaf for key in (
        "correspondence.isConfidential", "correspondence.content.attachments[0].expirationInDays",
        "correspondence.notification.notificationChannel", "idempotentKey", "correspondence.dueDateTime",
        "recipients[0]",
    )}
    assert kinds == {
        "correspondence.isConfidential": "bool",
        "correspondence.content.attachments[0].expirationInDays": "int",
        "correspondence.notification.notificationChannel": "str",
        "idempotentKey": "str",
        "correspondence.dueDateTime": "str",
        "recipients[0]": "str",
    }
    assert ROOT.kind == "model"


@pytest.mark.parametrize(
    "key",
    ["correspondence", "correspondence.content", "recipients[x]", "recipients[-1]", "correspondence..resourceId",
     "correspondence.resourceId.x", "correspondence.propertyList[]", "recipients[0]x", "nothing", "correspondence[0]"],
)
def test_names_that_are_not_value_paths_are_ignored(key: str) -> None:
    assert _resolve(key) is None
    assert bind_form([(key, "v")]).data == {}


def test_values_are_converted_first_wins_and_lists_are_ordered_by_index() -> None:
    bound = bind_form([
        ("recipients[10]", "c"), ("recipients[2]", "b"), ("recipients[0]", "a"), ("recipients[2]", "ignored"),
        ("correspondence.allowForwarding", " TRUE "), ("correspondence.isConfidential", "maybe"),
        ("correspondence.content.attachments[0].expirationInDays", "+14"),
        ("correspondence.content.attachments[1].expirationInDays", "1.5"),
        ("correspondence.messageSender", ""),
    ])
    assert bound.data["recipients"] == ["a", "b", "c"]
    correspondence = bound.data["correspondence"]
    assert correspondence["allowForwarding"] is True
    assert correspondence["isConfidential"] == "maybe"  # the model refuses it with its path
    assert [a["expirationInDays"] for a in correspondence["content"]["attachments"]] == [14, "1.5"]
    assert correspondence["messageSender"] is None
    assert form_path("$.recipients[2]", bound.indexes) == "recipients[10]"
    assert form_path("$", bound.indexes) == "$"


def test_unindexed_repeated_names_make_a_list_of_simple_values() -> None:
    assert bind_form([("existingAttachments", "a"), ("ExistingAttachments", "b")]).data == {"existingAttachments": ["a", "b"]}


def test_notification_template_3023_passes_through() -> None:
    fields = [("recipients[0]", "0192:991825827"), ("correspondence.resourceId", "r"),
              ("correspondence.sendersReference", "1"), ("correspondence.content.messageTitle", "t"),
              ("correspondence.content.messageBody", "b"), ("correspondence.notification.notificationTemplate", "7")]
    with pytest.raises(errors.ProblemError) as caught:
        parse_form_request(fields)
    assert caught.value.entry.error_code == 3023


# --- matching files to metadata (§3.10) --------------------------------------------------------
def _meta(name: str) -> CorrespondenceAttachment:
    return CorrespondenceAttachment.model_validate({"fileName": name, "sendersReference": "1"})


def _files(*names: str) -> list[FilePart]:
    return [FilePart("attachments", name, memoryview(f"{i}".encode())) for i, name in enumerate(names)]


@pytest.mark.parametrize(
    "metadata, files, expected",
    [
        (["a", "b"], ["a", "b"], [0, 1]),
        (["a", "b"], ["b", "a"], [1, 0]),
        (["a", "a", "b"], ["a", "a", "b"], [0, 1, 2]),
        (["b", "a", "a"], ["a", "a", "b"], None),
        (["a", "b", "a"], ["a", "a", "b"], None),
        (["a", "x"], ["x", "a"], [1, 0]),
        (["a", "a"], ["a", "b"], None),
        (["a"], ["a", "a"], None),
        (["a", "b"], ["a"], None),
        (["a"], ["A"], None),
        ([], [], []),
    ],
)
def test_match_files(metadata, files, expected) -> None:
    parts = _files(*files)
    if expected is None:
        with pytest.raises(errors.ProblemError) as caught:
            match_files([_meta(n) for n in metadata], parts)
        assert caught.value.entry.error_code == 1005
    else:
        assert match_files([_meta(n) for n in metadata], parts) == [parts[i] for i in expected]
