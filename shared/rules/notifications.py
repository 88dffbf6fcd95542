"""Notification business rules of initialize correspondence (behaviour §3.9, §3.5 step 26).

Order (first failure wins), as §3.5 step 26 lists it:

1. template lookup -> 404/3001 (``CustomMessage`` exists for every language;
   ``GenericAltinnMessage`` for nb/nn/en; the internal integer 2 has none, quirk Q7).
   §3.9 describes the template rows last, but upstream looks them up before the other
   notification rules, so 3001 wins over every code below.
2. custom recipients: 3022, 3017, then per custom recipient 3019, 3018, 3015, 3011, 3012;
3. content, only for ``CustomMessage``: 3002, 3003, 3004, 3005, 3006, 3007, 3024, 3025.

The e-mail pattern is upstream's (unanchored search: the address must *contain* a match; a
``;`` is refused). Mobile numbers must start with ``+`` or ``00`` and be a valid number per
libphonenumber.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

import phonenumbers

from shared.core import errors
from shared.models.correspondence import Notification, NotificationRecipient
from shared.models.enums import NotificationChannel, NotificationTemplate

RECIPIENT_NAME_KEYWORD = "$recipientname$"
GENERIC_TEMPLATE_LANGUAGES = frozenset({"nb", "nn", "en"})

# Upstream's e-mail expression (InitializeCorrespondenceHelper), used with an unanchored search.
_EMAIL = re.compile(
    r"((\"[^\\\"]+\")|(([a-zA-Z0-9!#$%&'*+\-=?\^_`{|}~])+(\.([a-zA-Z0-9!#$%&'*+\-=?\^_`{|}~])+)*))"
    r"@((((([a-zA-Z0-9æøåÆØÅ]([a-zA-Z0-9\-æøåÆØÅ]{0,61})[a-zA-Z0-9æøåÆØÅ]\.)"
    r"|[a-zA-Z0-9æøåÆØÅ]\.){1,9})([a-zA-Z]{2,14}))"
    r"|(([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})))"
)


def is_valid_email(value: str) -> bool:
    return ";" not in value and _EMAIL.search(value) is not None


def is_valid_mobile_number(value: str) -> bool:
    """Starts with ``+`` or ``00`` and is a valid number per libphonenumber."""
    if not value or not (value.startswith("+") or value.startswith("00")):
        return False
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _missing(value: Optional[str]) -> bool:
    return value is None or value == ""


def has_template(template: NotificationTemplate, language: str) -> bool:
    """Whether a template row exists for (template, content language)."""
    if template is NotificationTemplate.CustomMessage:
        return True
    if template is NotificationTemplate.GenericAltinnMessage:
        return language.lower() in GENERIC_TEMPLATE_LANGUAGES
    return False


def check_template(notification: Notification, language: str) -> None:
    """404/3001 when no template exists for the template and the content language."""
    if not has_template(notification.template, language):
        raise errors.TEMPLATE_NOT_FOUND.error()


def _texts(notification: Notification) -> tuple[Optional[str], ...]:
    return (
        notification.email_subject,
        notification.email_body,
        notification.sms_body,
        notification.reminder_email_subject,
        notification.reminder_email_body,
        notification.reminder_sms_body,
    )


def _uses_recipient_name(notification: Notification) -> bool:
    return any(
        text is not None and RECIPIENT_NAME_KEYWORD in text.lower()
        for text in _texts(notification)
    )


def check_custom_recipient(
    recipient: NotificationRecipient, uses_recipient_name: bool
) -> None:
    """3019, 3018, 3015, 3011, 3012 for one custom recipient."""
    email = recipient.email_address
    mobile = recipient.mobile_number
    identifiers = sum(
        1
        for value in (
            recipient.organization_number,
            recipient.national_identity_number,
            email,
            mobile,
        )
        if value
    )
    if identifiers == 0:
        raise errors.CUSTOM_RECIPIENT_NO_IDENTIFIER.error()
    if identifiers > 1:
        raise errors.CUSTOM_RECIPIENT_MULTIPLE_IDENTIFIERS.error()
    if (email or mobile) and uses_recipient_name:
        raise errors.RECIPIENT_NAME_KEYWORD_NOT_ALLOWED.error()
    if email and not is_valid_email(email):
        raise errors.INVALID_EMAIL.error()
    if mobile and not is_valid_mobile_number(mobile):
        raise errors.INVALID_MOBILE_NUMBER.error()


def check_custom_recipients(notification: Notification, recipients: Sequence[str]) -> None:
    """3022, 3017, then the per-recipient rules."""
    custom = notification.effective_custom_recipients
    if notification.override_registered_contact_information and not custom:
        raise errors.OVERRIDE_REQUIRES_CUSTOM_RECIPIENTS.error()
    if not custom:
        return
    if len(recipients) > 1:
        raise errors.CUSTOM_RECIPIENT_MULTIPLE_RECIPIENTS.error()
    uses_name = _uses_recipient_name(notification)
    for recipient in custom:
        check_custom_recipient(recipient, uses_name)


def check_content(notification: Notification) -> None:
    """3002-3007, 3024, 3025; only for ``CustomMessage``."""
    if notification.template is not NotificationTemplate.CustomMessage:
        return
    n = notification
    channel = n.notification_channel
    reminder = n.effective_reminder_channel
    remind = n.send_reminder
    email_missing = _missing(n.email_body) or _missing(n.email_subject)
    sms_missing = _missing(n.sms_body)
    reminder_email_missing = _missing(n.reminder_email_body) or _missing(
        n.reminder_email_subject
    )
    reminder_sms_missing = _missing(n.reminder_sms_body)
    preferred = (NotificationChannel.EmailPreferred, NotificationChannel.SmsPreferred)

    if channel is NotificationChannel.Email and email_missing:
        raise errors.MISSING_EMAIL_CONTENT.error()
    if reminder is NotificationChannel.Email and remind and reminder_email_missing:
        raise errors.MISSING_EMAIL_REMINDER_CONTENT.error()
    if channel is NotificationChannel.Sms and sms_missing:
        raise errors.MISSING_SMS_CONTENT.error()
    if reminder is NotificationChannel.Sms and remind and reminder_sms_missing:
        raise errors.MISSING_SMS_REMINDER_CONTENT.error()
    if channel in preferred and (email_missing or sms_missing):
        raise errors.MISSING_PREFERRED_CONTENT.error()
    if reminder in preferred and remind and (reminder_email_missing or reminder_sms_missing):
        raise errors.MISSING_PREFERRED_REMINDER_CONTENT.error()
    if channel is NotificationChannel.EmailAndSms and (email_missing or sms_missing):
        raise errors.MISSING_EMAIL_AND_SMS_CONTENT.error()
    if (
        reminder is NotificationChannel.EmailAndSms
        and remind
        and (reminder_email_missing or reminder_sms_missing)
    ):
        raise errors.MISSING_EMAIL_AND_SMS_REMINDER_CONTENT.error()


def check_notification(
    notification: Optional[Notification], language: str, recipients: Sequence[str]
) -> None:
    """§3.5 step 26: template (3001), custom recipients, content. No notification: nothing."""
    if notification is None:
        return
    check_template(notification, language)
    check_custom_recipients(notification, recipients)
    check_content(notification)
