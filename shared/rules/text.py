"""Text rules for correspondence content (behaviour §3.4).

Upstream decides "plain text" by converting the text HTML -> Markdown (ReverseMarkdown, which
escapes ``*`` and ``_``) -> plain text (Markdig with the advanced extensions and without list
parsing), after removing back-ticks and backslashes, and comparing the result with the input
with all whitespace deleted. Text is plain exactly when no Markdown or HTML construct changes
its visible characters. We do not run two converters per request; instead we look for the
constructs that change the visible text, which gives the same answer on every example of the
behaviour document (docs/behaviour.md) and upstream's tests:

rejected
    HTML elements, comments and declarations (``<h1>``, ``</b>``, ``<!-- -->``,
    ``<https://autolink>``); HTML entity or character references (``&amp;``, ``&#65;``);
    ATX headings (``# x``, ``###``); setext headings (a line underlined by ``===`` or ``---``);
    thematic breaks made of ``-`` (``***`` and ``___`` are escaped upstream, so they pass);
    block quotes (a line starting with ``>``); links and images (``[a](b)``, ``![a](b)``) and
    link reference definitions (``[a]: b``); pipe tables (a header row with ``|`` followed by
    a delimiter row); the emphasis extras of Markdig's advanced extensions: ``~~strike~~``,
    ``~sub~``, ``^sup^``, ``++ins++``, ``==mark==``; custom containers (a line starting with
    ``:::``) and definition-list markers (a line starting with ``:`` plus a space right after
    a text line).

accepted
    ordinary sentences, ``123. This`` and ``1.234`` (list parsing is off), ``Error #404``,
    ``*``/``_`` pairs, back-ticks, backslashes, ``1 < 2``, ``Smith & Co``, irregular
    whitespace, the empty string and whitespace-only strings.

Known difference (documented, kept permissive): Markdig's math extension would turn
``$a$`` into ``\\(a\\)``; we accept dollar signs, as a sender writing amounts expects.

The markdown check for the body is effectively permissive upstream (everything is
HTML-encoded before the comparison), so any body that passed the length rules is accepted.
"""

from __future__ import annotations

import re

_HTML_TAG = re.compile(r"<[A-Za-z/!?]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
_LINK = re.compile(r"\[[^\]\n]*\]\([^)\n]*\)")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.MULTILINE)
_BLOCK_QUOTE = re.compile(r"^ {0,3}>", re.MULTILINE)
_CONTAINER = re.compile(r"^ {0,3}:::", re.MULTILINE)
# Emphasis extras: an opening run directly followed by a non-space, a closing run of the
# same delimiter directly preceded by a non-space, on one line.
_EMPHASIS_EXTRAS = re.compile(
    r"(?<![~^+=])(~~|~|\^|\+\+|==)(?![~^+=\s])[^\n]*?(?<![\s~^+=])\1(?![~^+=])"
)
_SETEXT_EQ = re.compile(r" {0,3}=+[ \t]*")
_DASH_LINE = re.compile(r" {0,3}-+[ \t]*")
_THEMATIC_DASH = re.compile(r" {0,3}(?:-[ \t]*){3,}")
_TABLE_DELIMITER = re.compile(
    r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*"
)
_DEFINITION = re.compile(r" {0,3}:[ \t]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MARKUP_CHARS = frozenset("<&[#>~^+=:-|")


def is_plain_text(text: str) -> bool:
    """True when rendering ``text`` as HTML/Markdown would not change its visible text."""
    text = text.replace("`", "").replace("\\", "")
    if not text or text.isspace():
        return True
    # Fast path: ordinary sentences contain none of the characters any construct needs.
    if _MARKUP_CHARS.isdisjoint(text):
        return True
    if _HTML_TAG.search(text) or _ENTITY.search(text) or _LINK.search(text):
        return False
    if _EMPHASIS_EXTRAS.search(text):
        return False
    if (
        _ATX_HEADING.search(text)
        or _BLOCK_QUOTE.search(text)
        or _LINK_DEFINITION.search(text)
        or _CONTAINER.search(text)
    ):
        return False
    if "\n" in text or "\r" in text:
        return not _has_multiline_construct(_LINE_BREAK.split(text))
    return not _THEMATIC_DASH.fullmatch(text)


def _has_multiline_construct(lines: list[str]) -> bool:
    previous_is_text = False
    previous = ""
    for line in lines:
        blank = not line.strip()
        if previous_is_text:
            if _SETEXT_EQ.fullmatch(line) or _DASH_LINE.fullmatch(line):
                return True  # setext heading
            if "|" in previous and "-" in line and _TABLE_DELIMITER.fullmatch(line):
                if "|" in line or previous.strip().count("|") > 0:
                    return True  # pipe table
            if _DEFINITION.match(line):
                return True  # definition list
        if _THEMATIC_DASH.fullmatch(line):
            return True
        previous_is_text = not blank
        previous = line
    return False


def is_markdown(text: str) -> bool:
    """Upstream's markdown check is effectively permissive (§3.4): every body passes."""
    return True
