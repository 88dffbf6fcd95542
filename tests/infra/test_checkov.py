"""checkov over infra/ (offline): zero failures, zero parsing errors, every skip explained."""

from __future__ import annotations

from typing import Any

from tests.infra import infra_checks as ic


def test_checkov_passes_with_no_parsing_errors(checkov_report: dict[str, Any], parsed: dict[str, Any],
                                               texts: dict[str, str]) -> None:
    assert ic.check_checkov_report(checkov_report, parsed, texts) == []
    summary = checkov_report["summary"]
    assert summary["failed"] == 0
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0


def test_project_checks_ran(checkov_report: dict[str, Any]) -> None:
    passed = {c["check_id"] for c in checkov_report["results"]["passed_checks"]}
    assert {"CKV_CORR_1", "CKV_CORR_2", "CKV_CORR_3"} <= passed


def test_every_skip_has_its_reason_next_to_it(texts: dict[str, str]) -> None:
    problems, skips = ic.check_skip_reasons(texts)
    assert problems == []
    assert skips, "expected the documented skips"
