"""Business rules of initialize correspondence without outside services (behaviour §3.5), and the
pluggable external checks' documented "not configured" behaviour."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared.core import errors
from shared.rules import external_checks
from shared.models.correspondence import InitializeCorrespondencesRequest, parse_initialize_request
from shared.rules.external_checks import Confidentiality, Dialog, LookupFailed, Party
from shared.rules.initialize import check_attachment_count, check_content_and_references, check_due_date_required, check_idempotency_argument, check_new_attachments_json, check_reply_options, check_unique_recipients, effective_publish_time, has_recipient_name_placeholder, is_valid_reply_url
from tests.support.builders import VALID_PERSONS, baseline_request

NOW = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
ORG = "urn:altinn:organization:identifier-no:991825827"
TWO = ["0192:991825827", "0192:123456789"]


def req(**overrides: Any) -> InitializeCorrespondencesRequest:
    return parse_initialize_request(baseline_request(**overrides))


def code(fn: Any, *args: Any) -> int | None:
    try:
        fn(*args)
    except errors.ProblemError as exc:
        return exc.entry.error_code
    return None


def content_code(**overrides: Any) -> int | None:
    overrides.setdefault("correspondence__requestedPublishTime", NOW.isoformat())
    return code(check_content_and_references, req(**overrides), NOW)


def iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


# --- step 1 ---------------------------------------------------------------------------------------
def test_1047_idempotent_key_with_several_recipients() -> None:
    key = str(uuid.uuid4())
    assert code(check_idempotency_argument, req(idempotentKey=key, recipients=TWO)) == 1047
    assert code(check_idempotency_argument, req(idempotentKey=key)) is None
    assert code(check_idempotency_argument, req(recipients=TWO)) is None


# --- step 8 ---------------------------------------------------------------------------------------
def test_1006_duplicates() -> None:
    assert code(check_unique_recipients, req(recipients=["0192:123456789", "urn:altinn:organization:identifier-no:123456789"])) == 1006
    assert code(check_unique_recipients, req(recipients=TWO)) is None


# --- steps 10, 12-16 ------------------------------------------------------------------------------
def test_baseline_passes_content_rules() -> None:
    assert content_code() is None


def test_1016_confirmation_without_due_date() -> None:
    assert content_code(correspondence__isConfirmationNeeded=True) == 1016
    assert code(check_due_date_required, req(correspondence__isConfirmationNeeded=True)) == 1016
    assert content_code(correspondence__isConfirmationNeeded=True, correspondence__dueDateTime=iso(timedelta(days=1))) is None


def test_1008_due_date_in_the_past() -> None:
    assert content_code(correspondence__dueDateTime=iso(-timedelta(seconds=1))) == 1008
    assert content_code(correspondence__dueDateTime=iso(timedelta(0))) is None


def test_1009_due_date_before_publish_time() -> None:
    assert content_code(correspondence__dueDateTime=iso(timedelta(days=1)), correspondence__requestedPublishTime=iso(timedelta(days=2))) == 1009
    assert content_code(correspondence__dueDateTime=iso(timedelta(days=2)), correspondence__requestedPublishTime=iso(timedelta(days=2))) is None


def test_1009_uses_now_when_publish_time_is_absent() -> None:
    request = req(correspondence__requestedPublishTime=None, correspondence__dueDateTime=iso(timedelta(hours=1)))
    assert effective_publish_time(request, NOW) == NOW
    assert code(check_content_and_references, request, NOW) is None


def test_past_publish_time_is_accepted() -> None:
    assert content_code(correspondence__requestedPublishTime=iso(-timedelta(days=365))) is None


def test_date_order_1016_1008_1009() -> None:
    assert content_code(correspondence__isConfirmationNeeded=True, correspondence__content__messageTitle="# x") == 1016
    assert content_code(correspondence__dueDateTime=iso(-timedelta(days=1)), correspondence__requestedPublishTime=iso(timedelta(days=2))) == 1008


@pytest.mark.parametrize("title", ["<h1>test</h1>", "# test", "[a](b)"])
def test_1002_title_not_plain_text(title: str) -> None:
    assert content_code(correspondence__content__messageTitle=title) == 1002


@pytest.mark.parametrize("title", ["123. This is fine", "Error #404", "a_b_c", "TEST\\'S TESTVERKSTED AS"])
def test_plain_titles_pass(title: str) -> None:
    assert content_code(correspondence__content__messageTitle=title) is None


def test_summary_plain_text_not_enforced_and_html_body_accepted() -> None:
    assert content_code(correspondence__content__messageSummary="<h1>x</h1>", correspondence__content__messageBody="<h1>x</h1>") is None


@pytest.mark.parametrize("language", ["xx", "sv", "de"])
def test_1023_language(language: str) -> None:
    assert content_code(correspondence__content__language=language) == 1023


@pytest.mark.parametrize("language", ["nb", "nn", "en", "NB", "nN", "En", None, "", "  "])
def test_supported_languages(language: str | None) -> None:
    assert content_code(correspondence__content__language=language) is None


def test_1039_message_sender() -> None:
    assert content_code(correspondence__messageSender="<b>x</b>") == 1039
    assert content_code(correspondence__messageSender="Avsender AS") is None
    assert content_code(correspondence__messageSender="") is None


def test_content_rule_order() -> None:
    assert content_code(correspondence__content__messageTitle="# t", correspondence__content__language="xx") == 1002
    assert content_code(correspondence__content__language="xx", correspondence__messageSender="# s") == 1023


def ref(value: str | None, kind: int) -> dict[str, Any]:
    return {"referenceValue": value, "referenceType": kind}


DIALOG = str(uuid.uuid4())


def test_1052_several_transmission_types() -> None:
    refs = [ref("Information", 6), ref("Alert", 6), ref(DIALOG, 3)]
    assert content_code(correspondence__externalReferences=refs) == 1052


def test_1053_transmission_type_without_dialog() -> None:
    assert content_code(correspondence__externalReferences=[ref("Information", 6)]) == 1053
    assert content_code(correspondence__externalReferences=[ref("Information", 6), ref(DIALOG, 3)]) is None


@pytest.mark.parametrize("value", ["not-a-guid", "1234"])
def test_1048_dialog_id_not_guid(value: str) -> None:
    assert content_code(correspondence__externalReferences=[ref(value, 3)]) == 1048


def test_blank_dialog_id_is_not_a_transmission() -> None:
    assert content_code(correspondence__externalReferences=[ref("  ", 3)], recipients=TWO) is None


def test_1045_transmission_with_several_recipients() -> None:
    assert content_code(correspondence__externalReferences=[ref(DIALOG, 3)], recipients=TWO) == 1045


def test_1051_transmission_with_reply_options_or_confirmation() -> None:
    refs = [ref(DIALOG, 3)]
    assert content_code(correspondence__externalReferences=refs, correspondence__replyOptions=[{"linkURL": "https://a.no"}]) == 1051
    assert content_code(correspondence__externalReferences=refs, correspondence__isConfirmationNeeded=True, correspondence__dueDateTime=iso(timedelta(days=1))) == 1051
    assert content_code(correspondence__externalReferences=refs) is None


def test_reference_order_1052_before_1048() -> None:
    refs = [ref("Information", 6), ref("Alert", 6), ref("bad", 3)]
    assert content_code(correspondence__externalReferences=refs) == 1052


# --- step 18 --------------------------------------------------------------------------------------
def attachment(name: str = "test-file.txt") -> dict[str, Any]:
    return {"fileName": name, "sendersReference": "1234"}


def test_1038_attachment_count() -> None:
    assert code(check_attachment_count, req(), 100) is None
    assert code(check_attachment_count, req(), 101) == 1038
    with_new = req(correspondence__content__attachments=[attachment()] * 51)
    assert code(check_attachment_count, with_new, 49) is None
    assert code(check_attachment_count, with_new, 50) == 1038


# --- step 21 --------------------------------------------------------------------------------------
def test_1005_any_new_attachment_in_json() -> None:
    assert code(check_new_attachments_json, req()) is None
    assert code(check_new_attachments_json, req(correspondence__content__attachments=[attachment()])) == 1005


@pytest.mark.parametrize("name, expected", [("", 2010), ("file.exe", 2013), ("a<b.txt", 2012), ("CON.txt", 2021)])
def test_file_name_rules_before_1005(name: str, expected: int) -> None:
    request = req(correspondence__content__attachments=[attachment(), attachment(name)])
    assert code(check_new_attachments_json, request) == expected


# --- step 24 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    ["https://www.test.no", "HTTPS://EXAMPLE.COM/path?q=1#x", "https://a.no/" + "a" * 242, "https://a.no/%20x", "https://a.no:8443/x"],
)
def test_valid_reply_urls(url: str) -> None:
    assert is_valid_reply_url(url)
    assert code(check_reply_options, req(correspondence__replyOptions=[{"linkURL": url}])) is None


@pytest.mark.parametrize(
    "url",
    [None, "", "http://www.test.no", "www.test.no", "https://", "https:///path", "https://a.no/" + "a" * 243, "https://a b.no", "https://a.no/%zz", "https://a.no:99999/", "ftp://a.no", "https://a.no/<x>"],
)
def test_1035_invalid_reply_urls(url: str | None) -> None:
    assert not is_valid_reply_url(url)
    options = [{"linkURL": "https://ok.no"}, {"linkURL": url}]
    assert code(check_reply_options, req(correspondence__replyOptions=options)) == 1035


# --- step 25 helper -------------------------------------------------------------------------------
def test_recipient_name_placeholder() -> None:
    assert not has_recipient_name_placeholder(req())
    assert has_recipient_name_placeholder(req(correspondence__content__messageBody="Hei {{recipientName}}"))
    assert has_recipient_name_placeholder(req(correspondence__content__messageSummary="{{recipientName}}"))
    assert not has_recipient_name_placeholder(req(correspondence__content__messageTitle="{{RecipientName}}"))


# --- statuses of every code used here -------------------------------------------------------------
@pytest.mark.parametrize("entry", [errors.IDEMPOTENT_KEY_MULTIPLE_RECIPIENTS, errors.DUPLICATE_RECIPIENTS, errors.DUE_DATE_REQUIRED, errors.DUE_DATE_PRIOR_TODAY, errors.DUE_DATE_PRIOR_PUBLISH_TIME, errors.TITLE_NOT_PLAIN_TEXT, errors.BODY_NOT_MARKDOWN, errors.INVALID_LANGUAGE, errors.MESSAGE_SENDER_NOT_PLAIN_TEXT, errors.MULTIPLE_TRANSMISSION_TYPES, errors.TRANSMISSION_TYPE_WITHOUT_DIALOG, errors.INVALID_DIALOG_ID, errors.TRANSMISSION_SINGLE_RECIPIENT, errors.TRANSMISSION_NO_REPLY_OPTIONS, errors.ATTACHMENT_COUNT_EXCEEDED, errors.FILES_DO_NOT_MATCH_ATTACHMENTS, errors.INVALID_REPLY_OPTIONS])
def test_business_codes_are_400(entry: errors.CatalogEntry) -> None:
    assert entry.status == 400


# --- external checks ------------------------------------------------------------------------------
def test_external_checks_not_configured_let_requests_pass() -> None:
    request = req(
        recipients=[VALID_PERSONS[0]],
        correspondence__isConfidential=True,
        correspondence__allowForwarding=True,
        correspondence__externalReferences=[ref(DIALOG, 3)],
        correspondence__content__messageBody="Hei {{recipientName}}",
    )
    external_checks.check_confidentiality(request, "CorrespondenceService", None)
    external_checks.check_forwarding_auth_level(request, None)
    assert external_checks.check_recipients_registered(request, None) == {}
    assert external_checks.check_reservation(request, None) == set()
    external_checks.check_dialog(request, None, "991825827")
    assert external_checks.check_recipient_names(request, None) == {}


def test_1060_1061_confidentiality() -> None:
    plain, confidential = req(), req(correspondence__isConfidential=True)
    assert code(external_checks.check_confidentiality, plain, "CorrespondenceService", lambda: Confidentiality.CONFIDENTIAL) == 1060
    assert code(external_checks.check_confidentiality, confidential, "CorrespondenceService", lambda: Confidentiality.NOT_CONFIDENTIAL) == 1061
    for request in (plain, confidential):
        assert code(external_checks.check_confidentiality, request, "CorrespondenceService", lambda: Confidentiality.EXPLICITLY_DELEGATED) is None
        assert code(external_checks.check_confidentiality, request, "AltinnApp", lambda: Confidentiality.CONFIDENTIAL if request is plain else Confidentiality.NOT_CONFIDENTIAL) is None


def test_1068_forwarding_auth_level() -> None:
    forwarding = req(correspondence__allowForwarding=True)
    assert code(external_checks.check_forwarding_auth_level, forwarding, lambda: 3) == 1068
    assert code(external_checks.check_forwarding_auth_level, forwarding, lambda: 0) is None
    assert code(external_checks.check_forwarding_auth_level, req(), lambda: 3) is None


def test_1069_forwarding_size() -> None:
    forwarding = req(correspondence__allowForwarding=True)
    assert code(external_checks.check_forwarding_size, forwarding, 10_000_000) is None
    assert code(external_checks.check_forwarding_size, forwarding, 10_000_001) == 1069
    assert code(external_checks.check_forwarding_size, req(), 10_000_001) is None


def parties(*urns: str, roles: frozenset[str] = frozenset({"daglig-leder"})) -> Any:
    return lambda recipients: {u: Party(u, str(uuid.uuid4()), "Name", roles) for u in urns}


def test_1029_unresolved_recipients_listed() -> None:
    request = req(recipients=TWO)
    with pytest.raises(errors.ProblemError) as caught:
        external_checks.check_recipients_registered(request, parties(ORG))
    assert caught.value.entry.error_code == 1029 and caught.value.status == 404
    assert "urn:altinn:organization:identifier-no:123456789" in caught.value.detail
    found = external_checks.check_recipients_registered(request, parties(*request.recipients))
    assert set(found) == set(request.recipients)


def test_1044_confidential_roles() -> None:
    request = req(correspondence__isConfidential=True)
    assert code(external_checks.check_recipients_registered, request, parties(ORG, roles=frozenset())) == 1044
    assert code(external_checks.check_recipients_registered, request, parties(ORG)) is None


def test_1030_1032_reservation() -> None:
    person = f"urn:altinn:person:identifier-no:{VALID_PERSONS[0]}"
    single = req(recipients=[VALID_PERSONS[0]])
    assert code(external_checks.check_reservation, single, lambda p: {person}) == 1030
    ignoring = req(recipients=[VALID_PERSONS[0]], correspondence__ignoreReservation=True)
    assert external_checks.check_reservation(ignoring, lambda p: {person}) == {person}
    several = req(recipients=[VALID_PERSONS[0], VALID_PERSONS[1]])
    assert external_checks.check_reservation(several, lambda p: {person}) == {person}

    def failing(persons: Any) -> set[str]:
        raise LookupFailed()

    assert code(external_checks.check_reservation, single, failing) == 1032
    assert external_checks.check_reservation(ignoring, failing) == set()


def test_1054_1050_1046_dialog() -> None:
    request = req(correspondence__externalReferences=[ref(DIALOG, 3)])
    assert code(external_checks.check_dialog, request, lambda d: None, "991825827") == 1054
    assert code(external_checks.check_dialog, request, lambda d: Dialog("310000000", ORG), "991825827") == 1050
    assert code(external_checks.check_dialog, request, lambda d: Dialog("991825827", "urn:altinn:organization:identifier-no:310000000"), "991825827") == 1046
    assert code(external_checks.check_dialog, request, lambda d: Dialog("0192:991825827", ORG), "991825827") is None
    assert code(external_checks.check_dialog, req(), lambda d: None, "991825827") is None


def test_1029_recipient_name_lookup() -> None:
    request = req(correspondence__content__messageTitle="Til {{recipientName}}", recipients=TWO)
    with pytest.raises(errors.ProblemError) as caught:
        external_checks.check_recipient_names(request, parties(ORG))
    assert caught.value.entry.error_code == 1029
    assert "123456789" in caught.value.detail
    names = external_checks.check_recipient_names(request, parties(*request.recipients))
    assert set(names.values()) == {"Name"}
