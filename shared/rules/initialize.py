"""Business rules of initialize correspondence that need no outside service and no storage
(behaviour §3.5). Each function raises the first failing rule's ``errors.ProblemError``; the
initialize service calls them at their place in §3.5's order (first failure wins):

====  ==========================================  ===============================================
step  function                                    codes, in order
====  ==========================================  ===============================================
1     ``check_idempotency_argument(req)``         1047 (before looking the key up: 1034)
8     ``check_unique_recipients(req)``            1006
10    ``check_due_date_required(req)``            1016 (before the KRR lookup of step 11)
10,   ``check_content_and_references(req, now)``  1016, 1008, 1009, 1002, 1003, 1023, 1039,
12-16                                             1052, 1053, 1048, 1045, 1051 (then the
                                                  Dialogporten lookups: 1054, 1050, 1046)
18    ``check_attachment_count(req, existing)``   1038
21    ``check_new_attachments_json(req)``         2010/2011/2013/2012/2021 per attachment, 1005
23    ``check_existing_attachments_expiry(...)``  1055
24    ``check_reply_options(req)``                1035
26    ``check_notification(req)``                 3001, 3022, 3017, 3019, 3018, 3015, 3011,
                                                  3012, 3002-3007, 3024, 3025
====  ==========================================  ===============================================

``check_content_and_references`` repeats 1016 first so that it is complete on its own; a
service that consults KRR (step 11) calls ``check_due_date_required`` before it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Optional, Sequence

from shared.core import errors
from shared.core.clock import as_utc
from shared.core.documents import AttachmentRecord
from shared.models.correspondence import InitializeCorrespondencesRequest
from shared.models.enums import ReferenceType
from shared.models.fields import utf16_length
from shared.rules import notifications
from shared.rules.attachment_files import check_file_name
from shared.rules.text import is_markdown, is_plain_text

SUPPORTED_LANGUAGES = frozenset({"nb", "nn", "en"})
MAX_ATTACHMENTS = 100
MAX_REPLY_URL_LENGTH = 255
RECIPIENT_NAME_PLACEHOLDER = "{{recipientName}}"
# Step 23: an existing attachment must stay available at least this long.
EXISTING_ATTACHMENT_MIN_LIFETIME = timedelta(hours=6)
# Characters never allowed unescaped in a URI (Uri.IsWellFormedUriString refuses them), and a
# "%" not followed by two hex digits.
_URI_INVALID = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]|%(?![0-9A-Fa-f]{2})')
# "https://", optional user info, a non-empty host (name, IPv4 or [IPv6]), an optional port,
# then the end or a path/query/fragment.
_HTTPS_AUTHORITY = re.compile(
    r"https://(?:[^/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^:/?#\[\]@]+)(?::(?P<port>[0-9]{0,5}))?(?:[/?#]|$)",
    re.IGNORECASE,
)


def effective_publish_time(req: InitializeCorrespondencesRequest, now: datetime) -> datetime:
    """``requestedPublishTime`` as sent, or ``now`` when omitted/null (§3.3)."""
    requested = req.correspondence.requested_publish_time
    return now if requested is None else requested


def check_idempotency_argument(req: InitializeCorrespondencesRequest) -> None:
    """Step 1: an idempotency key with more than one recipient -> 1047."""
    if req.idempotent_key is not None and len(req.recipients) > 1:
        raise errors.IDEMPOTENT_KEY_MULTIPLE_RECIPIENTS.error()


def check_unique_recipients(req: InitializeCorrespondencesRequest) -> None:
    """Step 8: duplicates after normalisation -> 1006."""
    if len(set(req.recipients)) != len(req.recipients):
        raise errors.DUPLICATE_RECIPIENTS.error()


def check_due_date_required(req: InitializeCorrespondencesRequest) -> None:
    """Step 10: ``isConfirmationNeeded`` without ``dueDateTime`` -> 1016."""
    correspondence = req.correspondence
    if correspondence.is_confirmation_needed and correspondence.due_date_time is None:
        raise errors.DUE_DATE_REQUIRED.error()


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def check_content_and_references(req: InitializeCorrespondencesRequest, now: datetime) -> None:
    """Steps 10 and 12-16 (the parts without a Dialogporten lookup), in order."""
    correspondence = req.correspondence
    content = correspondence.content
    check_due_date_required(req)

    # Step 12: dates.
    due = correspondence.due_date_time
    if due is not None:
        if due < now:
            raise errors.DUE_DATE_PRIOR_TODAY.error()
        if due < effective_publish_time(req, now):
            raise errors.DUE_DATE_PRIOR_PUBLISH_TIME.error()

    # Step 13: content.
    if not is_plain_text(content.message_title):
        raise errors.TITLE_NOT_PLAIN_TEXT.error()
    if not is_markdown(content.message_body):
        raise errors.BODY_NOT_MARKDOWN.error()
    if content.effective_language.lower() not in SUPPORTED_LANGUAGES:
        raise errors.INVALID_LANGUAGE.error()

    # Step 14: message sender.
    sender = correspondence.message_sender
    if sender and not is_plain_text(sender):
        raise errors.MESSAGE_SENDER_NOT_PLAIN_TEXT.error()

    # Step 15: external references.
    references = correspondence.external_references or []
    transmission_types = sum(
        1 for r in references if r.reference_type is ReferenceType.DialogportenTransmissionType
    )
    has_dialog = any(r.reference_type is ReferenceType.DialogportenDialogId for r in references)
    if transmission_types > 1:
        raise errors.MULTIPLE_TRANSMISSION_TYPES.error()
    if transmission_types == 1 and not has_dialog:
        raise errors.TRANSMISSION_TYPE_WITHOUT_DIALOG.error()

    # Step 16: transmissions (upstream skips them when the first dialog id is blank).
    dialog_id = correspondence.dialog_id_reference
    if dialog_id is not None and dialog_id.strip():
        if not _is_guid(dialog_id):
            raise errors.INVALID_DIALOG_ID.error()
        if len(req.recipients) > 1:
            raise errors.TRANSMISSION_SINGLE_RECIPIENT.error()
        if correspondence.reply_options or correspondence.is_confirmation_needed:
            raise errors.TRANSMISSION_NO_REPLY_OPTIONS.error()


def is_transmission(req: InitializeCorrespondencesRequest) -> bool:
    """True when the correspondence goes into an existing dialog (a usable dialog id)."""
    dialog_id = req.correspondence.dialog_id_reference
    return dialog_id is not None and bool(dialog_id.strip())


def check_attachment_count(req: InitializeCorrespondencesRequest, existing_count: int) -> None:
    """Step 18: existing + new attachments > 100 -> 1038."""
    if existing_count + len(req.correspondence.content.attachments) > MAX_ATTACHMENTS:
        raise errors.ATTACHMENT_COUNT_EXCEEDED.error()


def check_new_attachments_json(req: InitializeCorrespondencesRequest) -> None:
    """Step 21 for the JSON endpoint: file-name rules per attachment, then 1005 for any entry
    (quirk Q1: the JSON endpoint carries no files, so every metadata entry is unmatched)."""
    attachments = req.correspondence.content.attachments
    for attachment in attachments:
        check_file_name(attachment.file_name)
    if attachments:
        raise errors.FILES_DO_NOT_MATCH_ATTACHMENTS.error()


def check_existing_attachments_expiry(existing: Sequence[AttachmentRecord], now: datetime) -> None:
    """Step 23: an existing attachment whose links expire at or before now + 6 hours -> 1055
    (its ``expiresAt`` is the latest expiry of the links it has; never linked, it has none)."""
    limit = now + EXISTING_ATTACHMENT_MIN_LIFETIME
    if any(a.expiresAt is not None and as_utc(a.expiresAt) <= limit for a in existing):
        raise errors.ATTACHMENT_EXPIRES_SOON.error()


def is_valid_reply_url(url: Optional[str]) -> bool:
    """Absolute, well-formed, ``https://`` (any case), at most 255 characters."""
    if url is None or utf16_length(url) > MAX_REPLY_URL_LENGTH:
        return False
    if _URI_INVALID.search(url):
        return False
    match = _HTTPS_AUTHORITY.match(url)
    if match is None:
        return False
    port = match.group("port")
    return not port or int(port) <= 65535


def check_reply_options(req: InitializeCorrespondencesRequest) -> None:
    """Step 24: every ``linkURL`` must be a valid https URL of at most 255 chars -> 1035."""
    for option in req.correspondence.reply_options:
        if not is_valid_reply_url(option.link_url):
            raise errors.INVALID_REPLY_OPTIONS.error()


def has_recipient_name_placeholder(req: InitializeCorrespondencesRequest) -> bool:
    """Step 25 applies when title, summary or body contains ``{{recipientName}}`` (exact)."""
    content = req.correspondence.content
    return any(
        text is not None and RECIPIENT_NAME_PLACEHOLDER in text
        for text in (content.message_title, content.message_summary, content.message_body)
    )


def check_notification(req: InitializeCorrespondencesRequest) -> None:
    """Step 26: template (3001), custom recipients, content (see ``notification_rules``)."""
    notifications.check_notification(
        req.correspondence.notification,
        req.correspondence.content.effective_language,
        req.recipients,
    )
