"""Notification rules (behaviour §3.9, §3.5 step 26): one test per code, in the specified order."""

from __future__ import annotations

from typing import Any

import pytest

from shared.core import errors
from shared.models.correspondence import parse_initialize_request
from shared.rules.initialize import check_notification
from shared.rules.notifications import is_valid_email, is_valid_mobile_number
from tests.support.builders import baseline_request, notification

TWO_RECIPIENTS = ["0192:991825827", "0192:123456789"]


def code_of(notification_fields: dict[str, Any], language: str = "nb", recipients: list[str] | None = None) -> int | None:
    request = parse_initialize_request(
        baseline_request(
            correspondence__notification=notification_fields,
            correspondence__content__language=language,
            recipients=recipients or ["0192:991825827"],
        )
    )
    try:
        check_notification(request)
    except errors.ProblemError as exc:
        return exc.entry.error_code
    return None


def status_of(code: int) -> int:
    return next(
        entry.status
        for entry in vars(errors).values()
        if isinstance(entry, errors.CatalogEntry) and entry.error_code == code
    )


def test_valid_notification_passes() -> None:
    assert code_of(notification()) is None


def test_no_notification_passes() -> None:
    request = parse_initialize_request(baseline_request())
    check_notification(request)


# --- templates (3001) ---------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["nb", "nn", "en", "EN"])
def test_generic_template_languages(language: str) -> None:
    assert code_of({"notificationTemplate": 1}, language) is None


def test_generic_template_skips_content_rules() -> None:
    assert code_of({"notificationTemplate": "GenericAltinnMessage", "notificationChannel": 1}) is None


def test_template_integer_two_is_3001() -> None:
    assert code_of({"notificationTemplate": 2}) == 3001
    assert status_of(3001) == 404


def test_3001_wins_over_custom_recipient_rules() -> None:
    assert code_of({"notificationTemplate": 2, "overrideRegisteredContactInformation": True}) == 3001


# --- custom recipients --------------------------------------------------------------------------
def test_3022_override_without_custom_recipients() -> None:
    assert code_of(notification(overrideRegisteredContactInformation=True)) == 3022
    assert code_of(notification(overrideRegisteredContactInformation=True, customRecipients=[])) == 3022
    assert code_of(notification(overrideRegisteredContactInformation=True, customRecipients=[{"emailAddress": "a@b.no"}])) is None


def test_3017_custom_recipients_with_several_recipients() -> None:
    custom = [{"emailAddress": "a@b.no"}]
    assert code_of(notification(customRecipients=custom), recipients=TWO_RECIPIENTS) == 3017
    assert code_of(notification(customRecipient=custom[0]), recipients=TWO_RECIPIENTS) == 3017
    assert code_of(notification(), recipients=TWO_RECIPIENTS) is None


def test_3022_before_3017() -> None:
    assert code_of(notification(overrideRegisteredContactInformation=True), recipients=TWO_RECIPIENTS) == 3022


@pytest.mark.parametrize("recipient", [{}, {"emailAddress": ""}, {"isReserved": True}, {"mobileNumber": None}])
def test_3019_no_identifier(recipient: dict[str, Any]) -> None:
    assert code_of(notification(customRecipients=[recipient])) == 3019


@pytest.mark.parametrize(
    "recipient",
    [
        {"emailAddress": "a@b.no", "mobileNumber": "+4799999999"},
        {"organizationNumber": "991825827", "nationalIdentityNumber": "07827199405"},
        {"organizationNumber": "991825827", "emailAddress": "a@b.no"},
    ],
)
def test_3018_several_identifiers(recipient: dict[str, Any]) -> None:
    assert code_of(notification(customRecipients=[recipient])) == 3018


@pytest.mark.parametrize("field", ["emailSubject", "emailBody", "smsBody", "reminderEmailSubject", "reminderEmailBody", "reminderSmsBody"])
def test_3015_recipient_name_keyword(field: str) -> None:
    fields = notification(customRecipients=[{"emailAddress": "a@b.no"}])
    fields[field] = "Hello $RecipientName$"
    assert code_of(fields) == 3015
    fields["customRecipients"] = [{"organizationNumber": "991825827"}]
    assert code_of(fields) is None


def test_custom_recipient_rules_run_per_recipient_in_order() -> None:
    assert code_of(notification(customRecipients=[{"emailAddress": "bad"}, {}])) == 3011
    assert code_of(notification(customRecipients=[{}, {"emailAddress": "bad"}])) == 3019


@pytest.mark.parametrize("email", ["invalid", "a@b", "a;b@example.com", "@example.com", "a@.no"])
def test_3011_invalid_email(email: str) -> None:
    assert code_of(notification(customRecipients=[{"emailAddress": email}])) == 3011


@pytest.mark.parametrize(
    "email",
    ["a@b.no", "first.last+tag@example.com", '"quoted name"@example.com', "a@1.2.3.4", "a@bø.no", "x@sub.domain.museum"],
)
def test_valid_emails(email: str) -> None:
    assert is_valid_email(email)
    assert code_of(notification(customRecipients=[{"emailAddress": email}])) is None


@pytest.mark.parametrize("mobile", ["99999999", "4799999999", "+47", "+4712", "00", "+47abc", "+999 1234"])
def test_3012_invalid_mobile(mobile: str) -> None:
    assert code_of(notification(customRecipients=[{"mobileNumber": mobile}])) == 3012


@pytest.mark.parametrize("mobile", ["+4799999999", "004799999999", "+4741234567", "+46701234567"])
def test_valid_mobiles(mobile: str) -> None:
    assert is_valid_mobile_number(mobile)
    assert code_of(notification(customRecipients=[{"mobileNumber": mobile}])) is None


def test_organisation_and_identity_numbers_are_not_validated() -> None:
    assert code_of(notification(customRecipients=[{"organizationNumber": "x"}])) is None
    assert code_of(notification(customRecipients=[{"nationalIdentityNumber": "x"}])) is None


def test_deprecated_custom_notification_recipients_are_used() -> None:
    fields = notification(customNotificationRecipients=[{"recipientToOverride": "x", "recipients": [{"emailAddress": "bad"}]}])
    assert code_of(fields) == 3011


# --- content (CustomMessage only) ----------------------------------------------------------------
def n(channel: int, reminder: int | None = None, remind: bool = False, **texts: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"notificationTemplate": 0, "notificationChannel": channel, "sendReminder": remind}
    if reminder is not None:
        fields["reminderNotificationChannel"] = reminder
    fields.update(texts)
    return fields


FULL = {"emailSubject": "s", "emailBody": "b", "smsBody": "m"}
FULL_REMINDER = {"reminderEmailSubject": "s", "reminderEmailBody": "b", "reminderSmsBody": "m"}


@pytest.mark.parametrize("missing", ["emailSubject", "emailBody"])
@pytest.mark.parametrize("value", [None, ""])
def test_3002_email(missing: str, value: str | None) -> None:
    assert code_of(n(0, **{**FULL, missing: value})) == 3002


@pytest.mark.parametrize("missing", ["reminderEmailSubject", "reminderEmailBody"])
def test_3003_email_reminder(missing: str) -> None:
    assert code_of(n(0, remind=True, **FULL, **{**FULL_REMINDER, missing: None})) == 3003
    assert code_of(n(0, remind=False, **FULL, **{**FULL_REMINDER, missing: None})) is None


def test_3004_sms() -> None:
    assert code_of(n(1, smsBody="")) == 3004
    assert code_of(n(1, smsBody="x")) is None


def test_3005_sms_reminder() -> None:
    assert code_of(n(1, remind=True, smsBody="x")) == 3005
    assert code_of(n(1, remind=True, smsBody="x", reminderSmsBody="y")) is None
    # The reminder channel falls back to the main channel; an explicit one overrides it.
    assert code_of(n(0, 1, remind=True, **FULL, reminderSmsBody=None)) == 3005


@pytest.mark.parametrize("channel", [2, 3])
@pytest.mark.parametrize("missing", ["emailSubject", "emailBody", "smsBody"])
def test_3006_preferred(channel: int, missing: str) -> None:
    assert code_of(n(channel, **{**FULL, missing: None})) == 3006
    assert code_of(n(channel, **FULL)) is None


@pytest.mark.parametrize("channel", [2, 3])
@pytest.mark.parametrize("missing", ["reminderEmailSubject", "reminderEmailBody", "reminderSmsBody"])
def test_3007_preferred_reminder(channel: int, missing: str) -> None:
    assert code_of(n(channel, remind=True, **FULL, **{**FULL_REMINDER, missing: ""})) == 3007


@pytest.mark.parametrize("missing", ["emailSubject", "emailBody", "smsBody"])
def test_3024_email_and_sms(missing: str) -> None:
    assert code_of(n(4, **{**FULL, missing: None})) == 3024
    assert code_of(n(4, **FULL)) is None


@pytest.mark.parametrize("missing", ["reminderEmailSubject", "reminderEmailBody", "reminderSmsBody"])
def test_3025_email_and_sms_reminder(missing: str) -> None:
    assert code_of(n(4, remind=True, **FULL, **{**FULL_REMINDER, missing: None})) == 3025
    assert code_of(n(4, remind=True, **FULL, **FULL_REMINDER)) is None


def test_content_order_main_before_reminder() -> None:
    # Email channel missing both main and reminder texts: 3002 first.
    assert code_of(n(0, remind=True)) == 3002
    # Main e-mail fine, reminder SMS channel missing: 3005 (after 3003/3004 which do not apply).
    assert code_of(n(0, 1, remind=True, **FULL)) == 3005


def test_custom_recipient_rules_before_content_rules() -> None:
    assert code_of(n(0, customRecipients=[{}])) == 3019


@pytest.mark.parametrize("code", [3002, 3003, 3004, 3005, 3006, 3007, 3011, 3012, 3015, 3017, 3018, 3019, 3022, 3024, 3025])
def test_status_is_400(code: int) -> None:
    assert status_of(code) == 400
