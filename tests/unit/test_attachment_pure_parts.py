"""Pure parts of attachments: Content-Range, the block grid, Range, data types, the lifecycle's
status order and the scan-mode setting."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared.core import errors
from shared.core.documents import AttachmentRecord
from shared.core.statuses import AttachmentStatus
from shared.models import ranges as a
from shared.rules import attachment_lifecycle
from shared.rules.attachment_files import data_type_for
from shared.storage.blocks import block_id


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-9/10", (0, 9, 10)),
        ("bytes 10-19/100", (10, 19, 100)),
        ("BYTES  5-5/6 ", (5, 5, 6)),
        ("bytes */100", (None, None, 100)),
    ],
)
def test_parse_content_range(header, expected):
    parsed = a.parse_content_range(header)
    assert (parsed.start, parsed.end, parsed.total) == expected


@pytest.mark.parametrize(
    "header", ["bytes 0-9", "bytes 0-9/*", "bytes=0-9/10", "items 0-9/10", "bytes 9-0/10", "bytes 0-10/10", "bytes -1-5/10", ""]
)
def test_malformed_content_range_is_400(header):
    with pytest.raises(errors.HttpProblem) as excinfo:
        a.parse_content_range(header)
    assert excinfo.value.status == 400


@pytest.mark.parametrize(
    ("start", "end", "total", "ok"),
    [
        (0, 7, 20, True),
        (8, 15, 20, True),
        (16, 19, 20, True),  # the last, short chunk
        (0, 19, 20, True),
        (0, 15, 20, True),
        (1, 7, 20, False),
        (0, 6, 20, False),
        (8, 18, 20, False),
    ],
)
def test_chunk_alignment(start, end, total, ok):
    chunk = a.ChunkRange(start, end, total)
    if ok:
        a.check_chunk_alignment(chunk, 8)
    else:
        with pytest.raises(errors.HttpProblem) as excinfo:
            a.check_chunk_alignment(chunk, 8)
        assert excinfo.value.status == 416


def test_merge_and_cover():
    ranges: list[tuple[int, int]] = []
    ranges = a.merge_range(ranges, (16, 24))
    ranges = a.merge_range(ranges, (0, 8))
    assert ranges == [(0, 8), (16, 24)]
    ranges = a.merge_range(ranges, (8, 16))
    assert ranges == [(0, 24)]
    ranges = a.merge_range(ranges, (8, 16))
    assert ranges == [(0, 24)]
    assert a.merge_range([(0, 8), (24, 32)], (4, 28)) == [(0, 32)]
    assert a.covered([(0, 24)], 8, 16) and not a.covered([(0, 8), (16, 24)], 0, 24)


def test_block_ids_have_one_length():
    assert len({len(block_id(offset)) for offset in (0, 8 << 20, 50_000_000_000)}) == 1
    assert block_id(0) != block_id(8 << 20)


@pytest.mark.parametrize(
    ("name", "data_type"),
    [
        ("a.doc", "application/msword"),
        ("a.XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("a.pps", "application/vnd.ms-powerpoint"),
        ("a.pdf", "application/pdf"),
        ("x.tar.zip", "application/zip"),
        ("a.dicom", "application/dicom"),
        ("a.html", "text/html"),
        ("a.exe", "binary_octet_stream"),
        ("noext", "binary_octet_stream"),
        (None, "binary_octet_stream"),
    ],
)
def test_data_type(name, data_type):
    assert data_type_for(name) == data_type


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 10)),
        ("bytes=90-", 100, (90, 100)),
        ("bytes=-10", 100, (90, 100)),
        ("bytes=-1000", 100, (0, 100)),
        ("bytes=50-1000", 100, (50, 100)),
        ("bytes=0-1,5-6", 100, None),  # multi-part: ignored, the whole file
        ("items=0-1", 100, None),
    ],
)
def test_parse_range(header, size, expected):
    assert a.parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=5-4"])
def test_unsatisfiable_range_is_416(header):
    with pytest.raises(errors.HttpProblem) as excinfo:
        a.parse_range(header, 100)
    assert excinfo.value.status == 416


def test_add_status_keeps_latest_by_time_equal_to_last_appended():
    now = datetime.now(timezone.utc)
    record = AttachmentRecord(id=uuid.uuid4(), resourceId="r", sender="s", sendersReference="x", dataType="d", created=now)
    record.add_status(AttachmentStatus.Initialized, when=now + timedelta(seconds=5))
    record.add_status(AttachmentStatus.UploadProcessing, when=now)  # a clock behind the first writer's
    assert record.status is AttachmentStatus.UploadProcessing


def test_scan_mode_setting(monkeypatch):
    monkeypatch.delenv("MALWARE_SCAN_MODE", raising=False)
    assert attachment_lifecycle.scan_mode() == "none"
    monkeypatch.setenv("MALWARE_SCAN_MODE", "Defender")
    assert attachment_lifecycle.scan_mode() == "defender"
    monkeypatch.setenv("MALWARE_SCAN_MODE", "clamav")
    with pytest.raises(ValueError, match="MALWARE_SCAN_MODE"):
        attachment_lifecycle.scan_mode()
