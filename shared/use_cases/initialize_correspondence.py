"""``POST /correspondence/api/v1/correspondence``: initialize correspondences, one per recipient.

Upstream's rule order (behaviour §3.5), then one call to storage.

Validation comes first and has no side effects: every 4xx leaves nothing behind. Then
``correspondence_store.store_new`` stores and queues the whole request, or nothing.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from shared.auth import access
from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import utcnow
from shared.core.documents import (
    AttachmentRecord,
    CorrespondenceRecord,
    RequestManifest,
    correspondence_ids,
)
from shared.core.operations import Answer, Operation
from shared.core.statuses import AttachmentStatus, CorrespondenceStatus
from shared.models.correspondence import InitializeCorrespondencesRequest
from shared.models.responses import (
    InitializeCorrespondencesResponse,
    InitializedCorrespondence,
)
from shared.rules import external_checks
from shared.rules import initialize as initialize_rules
from shared.storage import attachment_store, correspondence_index
from shared.storage import correspondence_store as store
from shared.use_cases.attachment_links import AttachmentLinks

_lookups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lookup")

# In upstream's rule order (behaviour §1, §3.5): what a request may be answered with.
RULE_ERRORS = (
    errors.INVALID_NOTIFICATION_TEMPLATE,  # the mapper, after the request shape
    errors.IDEMPOTENT_KEY_MULTIPLE_RECIPIENTS,  # 1
    errors.DUPLICATE_IDEMPOTENT_KEY,
    errors.SERVICE_OWNER_NOT_FOUND,  # 2-4
    errors.NO_ACCESS_TO_RESOURCE,
    errors.CORRESPONDENCE_RESOURCE_TYPE,
    errors.CONFIDENTIAL_REQUIRED,  # 6-7
    errors.CONFIDENTIAL_NOT_ALLOWED,
    errors.FORWARDING_AUTH_LEVEL,
    errors.DUPLICATE_RECIPIENTS,  # 8-9
    errors.RECIPIENT_LOOKUP_FAILED,
    errors.RECIPIENTS_LACK_CONFIDENTIAL_ROLES,
    errors.DUE_DATE_REQUIRED,  # 10-11
    errors.RECIPIENT_RESERVED,
    errors.RESERVATION_REGISTRY_FAILED,
    errors.DUE_DATE_PRIOR_TODAY,  # 12-14
    errors.DUE_DATE_PRIOR_PUBLISH_TIME,
    errors.TITLE_NOT_PLAIN_TEXT,
    errors.BODY_NOT_MARKDOWN,
    errors.INVALID_LANGUAGE,
    errors.MESSAGE_SENDER_NOT_PLAIN_TEXT,
    errors.MULTIPLE_TRANSMISSION_TYPES,  # 15-16
    errors.TRANSMISSION_TYPE_WITHOUT_DIALOG,
    errors.INVALID_DIALOG_ID,
    errors.TRANSMISSION_SINGLE_RECIPIENT,
    errors.TRANSMISSION_NO_REPLY_OPTIONS,
    errors.DIALOG_NOT_FOUND,
    errors.TRANSMISSION_SERVICE_OWNER_MISMATCH,
    errors.TRANSMISSION_RECIPIENT_MISMATCH,
    errors.ATTACHMENT_SENDER_MISMATCH,  # 17-20
    errors.EXISTING_ATTACHMENT_NOT_FOUND,
    errors.ATTACHMENT_COUNT_EXCEEDED,
    errors.ATTACHMENT_NOT_PUBLISHED,
    errors.FORWARDING_SIZE,
    errors.FILENAME_MISSING,  # 21
    errors.FILENAME_TOO_LONG,
    errors.FILETYPE_NOT_ALLOWED,
    errors.FILENAME_INVALID,
    errors.FILENAME_RESERVED,
    errors.FILES_DO_NOT_MATCH_ATTACHMENTS,
    errors.ATTACHMENT_EXPIRES_SOON,  # 23
    errors.INVALID_REPLY_OPTIONS,  # 24
    errors.TEMPLATE_NOT_FOUND,  # 26
    errors.OVERRIDE_REQUIRES_CUSTOM_RECIPIENTS,
    errors.CUSTOM_RECIPIENT_MULTIPLE_RECIPIENTS,
    errors.CUSTOM_RECIPIENT_NO_IDENTIFIER,
    errors.CUSTOM_RECIPIENT_MULTIPLE_IDENTIFIERS,
    errors.RECIPIENT_NAME_KEYWORD_NOT_ALLOWED,
    errors.INVALID_EMAIL,
    errors.INVALID_MOBILE_NUMBER,
    errors.MISSING_EMAIL_CONTENT,
    errors.MISSING_EMAIL_REMINDER_CONTENT,
    errors.MISSING_SMS_CONTENT,
    errors.MISSING_SMS_REMINDER_CONTENT,
    errors.MISSING_PREFERRED_CONTENT,
    errors.MISSING_PREFERRED_REMINDER_CONTENT,
    errors.MISSING_EMAIL_AND_SMS_CONTENT,
    errors.MISSING_EMAIL_AND_SMS_REMINDER_CONTENT,
)
EXAMPLE = {
    "correspondence": {
        "resourceId": "ttd-corr-1",
        "sendersReference": "case-4711",
        "content": {"language": "nb", "messageTitle": "Vedtak", "messageSummary": "Ditt vedtak",
                    "messageBody": "# Vedtak\nSøknaden er innvilget."},
    },
    "recipients": ["26818099001"],
}
CORRESPONDENCE_LINKS = {
    name: {"operationId": operation_id, "parameters": {"correspondenceId": "$response.body#/correspondences/0/correspondenceId"}}
    for name, operation_id in (
        ("GetCorrespondence", "get_correspondence"),
        ("GetCorrespondenceDetails", "get_correspondence_details"),
    )
}
OPERATION = Operation(
    summary="Initialize one correspondence per recipient (JSON; existing attachments only)",
    tags=("Correspondence",),
    request=InitializeCorrespondencesRequest,
    request_example=EXAMPLE,
    answers=(Answer(200, "Stored and queued for publishing.", InitializeCorrespondencesResponse),),
    errors=RULE_ERRORS,
    links=CORRESPONDENCE_LINKS,
)


@dataclass
class NewAttachments:
    """Files of the multipart variant, stored after validation: their ids and whether all of
    them are already ``Published`` (no malware scanner configured)."""

    ids: list[uuid.UUID] = field(default_factory=list)
    all_published: bool = True


@dataclass
class PreparedRequest:
    """A request that passed every rule (steps 1-26): ready to store."""

    request: InitializeCorrespondencesRequest
    sender: str
    existing_attachment_ids: list[uuid.UUID]
    now: datetime


def _load_existing_attachments(ids: list[uuid.UUID], sender: str) -> list[AttachmentRecord]:
    """Step 17 (1017 as soon as a foreign attachment is met, then 1007); its result feeds steps 18-20."""
    if not ids:
        return []
    records = list(_lookups.map(attachment_store.read, ids))
    for record in records:
        if record is not None and access.organization_of(record.sender) != access.organization_of(sender):
            raise errors.ATTACHMENT_SENDER_MISMATCH.error()
    if any(record is None for record in records):
        raise errors.EXISTING_ATTACHMENT_NOT_FOUND.error()
    return records


def initialize_correspondence(
    caller: Caller, request: InitializeCorrespondencesRequest, *, now: datetime | None = None
) -> InitializeCorrespondencesResponse:
    """The JSON endpoint: every rule, then store."""
    return commit(prepare(caller, request, now=now))


def prepare(
    caller: Caller,
    request: InitializeCorrespondencesRequest,
    *,
    now: datetime | None = None,
    check_new_attachments: Callable[[InitializeCorrespondencesRequest], None] = initialize_rules.check_new_attachments_json,
    new_files_total_size: int = 0,
) -> PreparedRequest:
    """Every rule of behaviour §3.5 in upstream's order; no side effects.

    The multipart variant passes its own ``check_new_attachments`` (file matching, sizes and
    file-name rules, steps 21-22) and the total size of its files (step 20).
    """
    now = now or utcnow()
    correspondence = request.correspondence

    # 1. idempotency
    initialize_rules.check_idempotency_argument(request)
    if request.idempotent_key is not None:
        existing = store.committed_correspondence(request.idempotent_key, now)
        if existing is not None:
            raise _duplicate_key(existing)
    # 2-4. resource owner, access, resource type
    allowed = (access.CORRESPONDENCE_SERVICE,)
    if correspondence.dialog_id_reference is not None:
        allowed += (access.ALTINN_APP,)
    resource = access.authorize_sender(
        caller, correspondence.resource_id, allowed_types=allowed, type_error=errors.CORRESPONDENCE_RESOURCE_TYPE
    )
    sender = access.sender_urn(resource.owner_organization)
    # 5. the caller party: a token without an organisation was refused already (401/4006,
    # shared.auth.tokens). 4002 is upstream's register lookup of that party's UUID; without a
    # register integration there is no such lookup, so 4002 cannot occur here.
    # 6-7. confidentiality and forwarding rules of the resource policy. The integrations
    # (resource policy, register, KRR, Dialogporten) are not configured: ``None`` lookups
    # select the documented "not configured" behaviour of each check.
    external_checks.check_confidentiality(request, resource.resource_type, None)
    external_checks.check_forwarding_auth_level(request, None)
    # 8-9. recipients
    initialize_rules.check_unique_recipients(request)
    external_checks.check_recipients_registered(request, None)
    # 10-16. confirmation, reservation, dates, content, references, transmissions
    initialize_rules.check_due_date_required(request)  # before KRR, as upstream
    external_checks.check_reservation(request, None)
    initialize_rules.check_content_and_references(request, now)
    external_checks.check_dialog(request, None, resource.owner_organization)
    # 17-20. attachments
    if len(request.existing_attachments) > initialize_rules.MAX_ATTACHMENTS:
        # Upstream looks every id up first (1017/1007) and then counts (1038); more than 100
        # ids always end in an error, so we count first and never make those lookups.
        initialize_rules.check_attachment_count(request, len(request.existing_attachments))
    existing = _load_existing_attachments(list(request.existing_attachments), sender)
    initialize_rules.check_attachment_count(request, len(existing))
    if any(a.status is not AttachmentStatus.Published for a in existing):
        raise errors.ATTACHMENT_NOT_PUBLISHED.error()
    total = sum(a.size or 0 for a in existing) + new_files_total_size
    external_checks.check_forwarding_size(request, total)
    # 21-22. new attachments (the JSON endpoint carries no files: quirk Q1, 1005)
    check_new_attachments(request)
    # 23. an existing attachment whose links expire within 6 hours
    initialize_rules.check_existing_attachments_expiry(existing, now)
    # 24. reply options; 25. recipient-name placeholder; 26. notification
    initialize_rules.check_reply_options(request)
    external_checks.check_recipient_names(request, None)
    initialize_rules.check_notification(request)
    return PreparedRequest(request=request, sender=sender, existing_attachment_ids=[a.id for a in existing], now=now)


def _duplicate_key(correspondence_id: uuid.UUID) -> errors.ProblemError:
    # Improvement over upstream: the 409 names the correspondence the key created.
    return errors.DUPLICATE_IDEMPOTENT_KEY.error(existingCorrespondenceId=str(correspondence_id))


def commit(prepared: PreparedRequest, new_attachments: NewAttachments | None = None) -> InitializeCorrespondencesResponse:
    """Store and queue a prepared request (all or nothing) and build the response."""
    attachment_ids = prepared.existing_attachment_ids + (new_attachments.ids if new_attachments else [])
    ready = new_attachments is None or new_attachments.all_published
    new_request = _build(prepared.request, prepared.sender, attachment_ids, ready, prepared.now)
    links = AttachmentLinks(
        uploaded_by_this_request=frozenset(new_attachments.ids) if new_attachments is not None else frozenset(),
        linked_at=max(new_request.manifest.requestedPublishTime, prepared.now),
    )
    try:
        store.store_new(new_request, links)
    except store.IdempotentKeyTaken as taken:
        raise _duplicate_key(taken.correspondence_id) from None
    # Committed: list it for search. Never fails the request (the publisher repairs the index).
    correspondence_index.add(new_request.manifest, new_request.records)
    status = CorrespondenceStatus.ReadyForPublish if ready else CorrespondenceStatus.Initialized
    return InitializeCorrespondencesResponse(
        correspondences=[
            InitializedCorrespondence(correspondenceId=r.id, status=status, recipient=r.recipient, notifications=None)
            for r in new_request.records
        ],
        attachmentIds=list(dict.fromkeys(attachment_ids)),
    )


def _build(
    request: InitializeCorrespondencesRequest,
    sender: str,
    attachment_ids: list[uuid.UUID],
    ready: bool,
    now: datetime,
) -> store.NewRequest:
    correspondence = request.correspondence
    request_id = uuid.uuid4()
    ids = correspondence_ids(request_id, len(request.recipients))
    publish_at = initialize_rules.effective_publish_time(request, now)
    shared_part = correspondence.model_dump(mode="json", by_alias=True, exclude={"content": {"attachments"}})
    shared_part["sender"] = sender
    shared_part["requestedPublishTime"] = publish_at.isoformat()
    manifest = RequestManifest(
        requestId=request_id,
        sender=sender,
        resourceId=correspondence.resource_id,
        created=now,
        requestedPublishTime=publish_at,
        correspondenceIds=ids,
        recipients=list(request.recipients),
        attachmentIds=attachment_ids,
        idempotentKey=request.idempotent_key,
        correspondence=shared_part,
    )
    records = []
    for index, (correspondence_id, recipient) in enumerate(zip(ids, request.recipients)):
        record = CorrespondenceRecord(
            id=correspondence_id,
            requestId=request_id,
            index=index,
            sender=sender,
            recipient=recipient,
            resourceId=correspondence.resource_id,
            sendersReference=correspondence.senders_reference,
            created=now,
            requestedPublishTime=publish_at,
            dueDateTime=correspondence.due_date_time,
            attachmentIds=attachment_ids,
            idempotentKey=request.idempotent_key,
        )
        record.add_status(CorrespondenceStatus.Initialized, when=now)
        if ready:
            record.add_status(CorrespondenceStatus.ReadyForPublish, when=now)
        records.append(record)
    return store.NewRequest(manifest=manifest, records=records)
