"""Every citation of upstream behaviour in the repository resolves in docs/behaviour.md.

Code, tests and docs cite upstream behaviour by number: sections (``behaviour §3.5``, or a
bare section sign with a number), the business-rule steps of §3.5 (``step 26``,
``steps 21-22``) and the quirks of §11 (``quirk Q14``, ``Q7``). The specification they used to
point at is not in the repository, so docs/behaviour.md restates it with the same numbering;
these tests keep the two in step: a citation of a section, step or quirk the document does not
have fails, naming the file and line.

Not ours: a section sign right after an RFC number (``RFC 9110`` followed by a section sign
and 14) cites that RFC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

ROOT = Path(__file__).resolve().parents[2]
BEHAVIOUR_DOC = ROOT / "docs" / "behaviour.md"

# The section sign as an escape: the made-up citations of the samples below must not be
# found when this file is scanned like every other test.
SIGN = "\u00a7"
STEPS_SECTION = "3.5"
QUIRKS_SECTION = "11"

# A section sign and a dotted number; an RFC number right before it makes it the RFC's.
_SECTION = re.compile(r"(?P<rfc>\bRFC\s+\d+\s+)?" + SIGN + r"\s?(?P<number>\d+(?:\.\d+)*)")
# "step 26", "Steps 10 and 12-16", "steps 21-22", "step 27's": a number or range, then more
# joined by "," / "and" / "&". Those further items have one or two digits, so an error code
# after "and" (e.g. 1005) is never taken for a step; the first item may be any number, so a
# wrong step number is reported rather than skipped.
_RANGE = r"(?:\s*[-\u2013]\s*\d+)?"
_STEPS = re.compile(
    r"\b(?i:steps?)\s+(?P<items>\d+" + _RANGE + r"(?:\s*(?:,|and|&)\s*\d{1,2}" + _RANGE + r")*)\b"
)
# "Q14" as a whole word only (not "FAQ1", "Q14a", "Q1_x").
_QUIRK = re.compile(r"\bQ(?P<number>\d+)\b")

# Markdown parts of docs/behaviour.md.
_HEADING = re.compile(r"^#{1,6}\s+(?P<number>\d+(?:\.\d+)*)\.?(?:\s|$)")
_NUMBERED_ITEM = re.compile(r"^(?P<number>\d+)\.\s")
_QUIRK_ROW = re.compile(r"^\|\s*Q(?P<number>\d+)\s*\|")


@dataclass(frozen=True)
class Reference:
    kind: str  # "section", "step" or "quirk"
    target: str  # "3.5", "26", "14"
    text: str  # as written
    where: str  # "path:line"


@dataclass(frozen=True)
class Anchors:
    sections: frozenset[str]
    steps: frozenset[str]
    quirks: frozenset[str]

    def has(self, reference: Reference) -> bool:
        return reference.target in {"section": self.sections, "step": self.steps, "quirk": self.quirks}[reference.kind]


# --- what the repository cites ---------------------------------------------------------------
def cited_files(root: Path = ROOT) -> list[Path]:
    """The files whose citations must resolve (the layout the code base documents)."""
    patterns = ["shared/**/*.py", "tools/**/*.py", "bench/**/*.py", "tests/**/*.py", "cli/**/*.py", "docs/*.md"]
    files = {path for pattern in patterns for path in root.glob(pattern)}
    # Function folders: a package at the top level (hidden folders such as .venv are not ours).
    files |= {p for p in root.glob("*/__init__.py") if not p.parent.name.startswith(".")}
    files.add(root / "README.md")
    return sorted(p for p in files if p.is_file())


def _step_numbers(items: str) -> Iterator[str]:
    """Expand a step list: ``10 and 12-14`` gives 10, 12, 13, 14. A backwards range is kept as
    written, so it is reported (it cannot resolve)."""
    for item in re.split(r"\s*(?:,|and|&)\s*", items.strip()):
        bounds = re.split(r"\s*[-\u2013]\s*", item)
        if len(bounds) == 2 and int(bounds[0]) <= int(bounds[1]):
            yield from (str(n) for n in range(int(bounds[0]), int(bounds[1]) + 1))
        else:
            yield item


def references_in(text: str, where_prefix: str) -> Iterator[Reference]:
    """Every citation in ``text``, each with ``where_prefix:line``."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        where = f"{where_prefix}:{line_number}"
        for match in _SECTION.finditer(line):
            if match.group("rfc") is None:
                yield Reference("section", match.group("number"), match.group(0).strip(), where)
        for match in _STEPS.finditer(line):
            for number in _step_numbers(match.group("items")):
                yield Reference("step", number, match.group(0), where)
        for match in _QUIRK.finditer(line):
            yield Reference("quirk", match.group("number"), match.group(0), where)


def repository_references(root: Path = ROOT) -> list[Reference]:
    found: list[Reference] = []
    for path in cited_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        found.extend(references_in(text, str(path.relative_to(root))))
    return found


# --- what docs/behaviour.md defines -----------------------------------------------------------
def _sections(lines: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """(section number, its lines up to the next numbered heading) for each numbered heading."""
    number, body = None, []
    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            if number is not None:
                yield number, body
            number, body = heading.group("number"), []
        elif number is not None:
            body.append(line)
    if number is not None:
        yield number, body


def anchors_of(markdown: str) -> Anchors:
    sections, steps, quirks = set(), [], []
    for number, body in _sections(markdown.splitlines()):
        sections.add(number)
        if number == STEPS_SECTION:
            steps = [m.group("number") for line in body if (m := _NUMBERED_ITEM.match(line))]
        if number == QUIRKS_SECTION:
            quirks = [m.group("number") for line in body if (m := _QUIRK_ROW.match(line))]
    return Anchors(frozenset(sections), frozenset(steps), frozenset(quirks))


def unresolved(references: Iterable[Reference], anchors: Anchors) -> list[Reference]:
    return [r for r in references if not anchors.has(r)]


def _report(missing: list[Reference]) -> str:
    lines = [f"  {r.where}: {r.text!r} -> no {r.kind} {r.target} in docs/behaviour.md" for r in missing]
    return f"{len(missing)} citation(s) do not resolve:\n" + "\n".join(lines)


# --- the tests --------------------------------------------------------------------------------
def test_every_citation_resolves_in_the_behaviour_document() -> None:
    anchors = anchors_of(BEHAVIOUR_DOC.read_text(encoding="utf-8"))
    references = repository_references()
    # A scan that finds nothing would pass vacuously: every kind must be seen.
    assert {r.kind for r in references} == {"section", "step", "quirk"}, "the reference scan found too little"
    missing = unresolved(references, anchors)
    assert not missing, _report(missing)


def test_the_document_keeps_upstream_numbering() -> None:
    """§3.5 lists steps 1-28 and §11 quirks Q1-Q24, each once and in order."""
    markdown = BEHAVIOUR_DOC.read_text(encoding="utf-8")
    sections = dict(_sections(markdown.splitlines()))
    steps = [int(m.group("number")) for line in sections[STEPS_SECTION] if (m := _NUMBERED_ITEM.match(line))]
    quirks = [int(m.group("number")) for line in sections[QUIRKS_SECTION] if (m := _QUIRK_ROW.match(line))]
    assert steps == list(range(1, 29))
    assert quirks == list(range(1, 25))


def test_the_scan_tells_citations_from_lookalikes() -> None:
    """The patterns themselves, on text built here (literal citations would be scanned)."""
    text = "\n".join(
        [
            f"behaviour {SIGN}3.5 steps 21-22, Steps 10 and 12-14",
            f"RFC 9110 {SIGN}14 and RFC 6750 {SIGN}3.1 are not ours; bare {SIGN}6.4-{SIGN}6.8 are",
            "quirk Q" + "13, (Q" + "2; FAQ1 Q1a Q_1; step 27's 2008",
        ]
    )
    found = [(r.kind, r.target) for r in references_in(text, "sample")]
    assert found == [
        ("section", "3.5"),
        ("step", "21"), ("step", "22"),
        ("step", "10"), ("step", "12"), ("step", "13"), ("step", "14"),
        ("section", "6.4"), ("section", "6.8"),
        ("step", "27"),
        ("quirk", "13"), ("quirk", "2"),
    ]


def test_a_wrong_citation_is_reported_with_its_place() -> None:
    doc = "## 3 Initialize\n### 3.5 Order\n1. first\n2. second\n## 11 Quirks\n| Q1 | a | b |\n"
    text = f"fine: {SIGN}3.5 step 2 Q" + "1\n" + f"wrong: behaviour {SIGN}99.9, step 3, Q" + "2\n"
    missing = unresolved(references_in(text, "x.py"), anchors_of(doc))
    assert [(r.kind, r.target, r.where) for r in missing] == [
        ("section", "99.9", "x.py:2"),
        ("step", "3", "x.py:2"),
        ("quirk", "2", "x.py:2"),
    ]
    assert "x.py:2" in _report(missing) and "99.9" in _report(missing)
