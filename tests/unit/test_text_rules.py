"""Plain-text and markdown checks (behaviour §3.4)."""

from __future__ import annotations

import pytest

from shared.rules.text import is_markdown, is_plain_text


@pytest.mark.parametrize(
    "text",
    [
        "test",
        "Ordinary sentence, with punctuation: yes! (and more)",
        "123. This is not a list",
        "1.234 is a number",
        "Error #404 occurred",
        "#404",
        "Text with *stars* and _underscores_ pairs",
        "***",
        "___",
        "A `code` word",
        "```fenced```",
        "TEST\\'S TESTVERKSTED AS",
        "back\\slash",
        "irregular   whitespace\t\there",
        "",
        "   ",
        "\n\t ",
        "- item (list parsing is disabled)",
        "+ item",
        "1 < 2 and 3 > 2",
        "Smith & Co",
        "C++ and C#",
        "a == b",
        "Price ~100 to ~200",
        "[not a link]",
        "www.example.com and https://example.com",
        "Cost $5 and $10",
        "line one\nline two",
        "--",
        "e-mail: post@example.com",
        "Time: 10:30",
        "Æøå ÆØÅ",
    ],
)
def test_plain_text_accepted(text: str) -> None:
    assert is_plain_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "<h1>test</h1>",
        "<b>bold</b>",
        "text <br/> text",
        "<!-- comment -->",
        "<https://example.com>",
        "# test",
        "## test",
        "###### test",
        "#",
        "   # indented heading",
        "[a](b)",
        "see [the site](https://example.com)",
        "![an image](www.test.no)",
        "[ref]: https://example.com",
        "> quote",
        "  > indented quote",
        "---",
        "- - -",
        "Title\n=====",
        "Title\n---",
        "a | b\n--|--\n1 | 2",
        "| a | b |\n| --- | --- |",
        "&amp;",
        "&#65;",
        "&#x41;",
        "~~strike~~",
        "H~2~O",
        "x^2 + y^2",
        "++inserted++",
        "==marked==",
        "::: warning",
        "Term\n: definition",
    ],
)
def test_plain_text_rejected(text: str) -> None:
    assert not is_plain_text(text)


@pytest.mark.parametrize(
    "body",
    [
        "# heading",
        "<h1>html</h1>",
        "<https://google.com>",
        "plain",
        "x" * 30_000,
    ],
)
def test_markdown_check_is_permissive(body: str) -> None:
    assert is_markdown(body)
