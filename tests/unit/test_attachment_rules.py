"""File-name and expiration rules shared by the attachment endpoints (behaviour §6.2)."""

from __future__ import annotations

import pytest

from shared.core import errors
from shared.rules.attachment_files import ALLOWED_EXTENSIONS, check_expiration_days, check_file_name, min_expiration_days


def code_of(name: str | None) -> int | None:
    try:
        check_file_name(name)
    except errors.ProblemError as exc:
        assert exc.status == 400
        return exc.entry.error_code
    return None


@pytest.mark.parametrize("extension", sorted(ALLOWED_EXTENSIONS))
def test_allowed_extensions(extension: str) -> None:
    assert code_of("file" + extension) is None
    assert code_of("FILE" + extension.upper()) is None


@pytest.mark.parametrize(
    "name",
    ["test-file.txt", "my_CONNECTION_file.txt", "NO_CON.pdf", "report.final.pdf", "a" * 251 + ".txt", "æøå.pdf"],
)
def test_valid_names(name: str) -> None:
    assert code_of(name) is None


@pytest.mark.parametrize("name", [None, "", " ", "\t"])
def test_2010_missing(name: str | None) -> None:
    assert code_of(name) == 2010


def test_2011_too_long() -> None:
    assert code_of("a" * 252 + ".txt") == 2011
    assert code_of("a" * 251 + ".txt") is None


@pytest.mark.parametrize(
    ("name", "named"), [("report.EXE", "'.exe'"), ("README", "no extension"), ("a." + "x" * 50, "'." + "x" * 19 + "'")]
)
def test_2013_detail_names_the_extension_and_the_allowed_list(name: str, named: str) -> None:
    with pytest.raises(errors.ProblemError) as raised:
        check_file_name(name)
    assert raised.value.entry is errors.FILETYPE_NOT_ALLOWED and raised.value.status == 400
    detail = raised.value.detail
    assert detail.startswith("Filetype not allowed: ") and f"has {named};" in detail
    assert all(extension in detail for extension in ALLOWED_EXTENSIONS) and "docs/attachments.md" in detail


@pytest.mark.parametrize("name", ["file.exe", "file", "a//b", "file.", "file.pdf.exe", "archive.tar.gz"])
def test_2013_extension(name: str) -> None:
    assert code_of(name) == 2013


@pytest.mark.parametrize("char", list('<>:"/\\|?*') + ["\x00", "\x01", "\x1f"])
def test_2012_invalid_characters(char: str) -> None:
    assert code_of(f"a{char}b.txt") == 2012


@pytest.mark.parametrize(
    "name",
    ["CON.txt", "con.txt", "PRN.pdf", "AUX.doc", "NUL.csv", "COM1.txt", "com9.pdf", "LPT1.txt", "lpt1.pdf", "CON.tar.zip"],
)
def test_2021_reserved_names(name: str) -> None:
    assert code_of(name) == 2021


def test_rule_order() -> None:
    assert code_of("a" * 300) == 2011  # too long before extension
    assert code_of("a<b") == 2013  # extension before characters
    assert code_of("CON<.txt") == 2012  # characters before reserved names


def test_expiration_minimum_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_FUNCTIONS_ENVIRONMENT", raising=False)
    monkeypatch.delenv("ATTACHMENT_MIN_EXPIRATION_DAYS", raising=False)
    assert min_expiration_days() == 14
    check_expiration_days(None)
    check_expiration_days(14)
    for days in (13, 1, 0, -5):
        with pytest.raises(errors.ProblemError) as caught:
            check_expiration_days(days)
        assert caught.value.entry.error_code == 2017
        assert caught.value.status == 400
        assert "14 days" in caught.value.detail


def test_expiration_minimum_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_FUNCTIONS_ENVIRONMENT", "Development")
    monkeypatch.delenv("ATTACHMENT_MIN_EXPIRATION_DAYS", raising=False)
    assert min_expiration_days() == 1
    check_expiration_days(1)
    with pytest.raises(errors.ProblemError) as caught:
        check_expiration_days(0)
    assert caught.value.entry.error_code == 2017


def test_expiration_minimum_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_FUNCTIONS_ENVIRONMENT", "Development")
    monkeypatch.setenv("ATTACHMENT_MIN_EXPIRATION_DAYS", "7")
    check_expiration_days(7)
    with pytest.raises(errors.ProblemError) as caught:
        check_expiration_days(6)
    assert "7 days" in caught.value.detail
