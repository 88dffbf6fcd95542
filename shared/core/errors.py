"""The error catalog and the exception types every layer raises.

Business errors are ``(errorCode, status, message)`` entries with stable codes; the message is
fixed per code (upstream's wording where it has one), so clients and tests may compare it.
Nothing here echoes request payloads or personal data, except where upstream's message names
the offending recipients (1029, 1030, 1044), which the caller sent itself. ``shared.api.problems``
renders them as problem details (RFC 9457).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class CatalogEntry:
    error_code: int
    status: int
    message: str
    # Our detail text where upstream's message misleads (the message stays upstream's, for the
    # OpenAPI document and for clients that compare it).
    detail: str | None = None

    def error(self, detail: str | None = None, **extensions: object) -> "ProblemError":
        return ProblemError(self, detail=detail, extensions=extensions)


class ProblemError(Exception):
    """A business error from the catalog; the HTTP layer renders it."""

    def __init__(
        self,
        entry: CatalogEntry,
        detail: str | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(f"{entry.error_code}")
        self.entry = entry
        self.detail = detail or entry.detail or entry.message
        self.extensions = extensions or {}

    @property
    def status(self) -> int:
        return self.entry.status


@dataclass(frozen=True)
class FieldError:
    path: str  # JSON path, e.g. "$.correspondence.content.messageTitle"
    message: str


class RequestValidationError(Exception):
    """The request's shape is wrong (upstream's model validation: 400, code STD-00000)."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} field error(s)")


class HttpProblem(Exception):
    """A protocol-level problem without an errorCode (404 route, 405, 406, 413, 415, 503)."""

    def __init__(
        self, status: int, detail: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(str(status))
        self.status = status
        self.detail = detail
        self.headers = headers or {}




class ServiceUnavailable(Exception):
    """A dependency we own or rely on (storage, key set, registry) is unreachable: 503."""

    #: A fixed sentence for the client instead of the generic one (never the exception text).
    client_detail: str | None = None


def _e(code: int, status: int, message: str, detail: str | None = None) -> CatalogEntry:
    return CatalogEntry(code, status, message, detail)


# --- Correspondence (1xxx) ---------------------------------------------------------------
CORRESPONDENCE_NOT_FOUND = _e(1001, 404, "The requested correspondence was not found")
TITLE_NOT_PLAIN_TEXT = _e(1002, 400, "Message title must be plain text")
BODY_NOT_MARKDOWN = _e(1003, 400, "Message body must be markdown")
FILES_DO_NOT_MATCH_ATTACHMENTS = _e(
    1005, 400, "Mismatch between uploaded files and attachment metadata"
)
DUPLICATE_RECIPIENTS = _e(1006, 400, "Recipients must be unique")
EXISTING_ATTACHMENT_NOT_FOUND = _e(1007, 400, "Existing attachment not found")
DUE_DATE_PRIOR_TODAY = _e(1008, 400, "DueDateTime cannot be prior to today")
DUE_DATE_PRIOR_PUBLISH_TIME = _e(
    1009, 400, "DueDateTime cannot be prior to RequestedPublishTime"
)
CANT_PURGE_PUBLISHED = _e(
    1013, 400, "Sender cannot delete correspondence that has been published"
)
ALREADY_PURGED = _e(1014, 400, "Correspondence has already been purged")
DUE_DATE_REQUIRED = _e(1016, 400, "DueDateTime is required when confirmation is needed")
ATTACHMENT_SENDER_MISMATCH = _e(
    1017,
    400,
    "The sender of the correspondence must be equal the sender of existing attachments",
)
ATTACHMENT_NOT_PUBLISHED = _e(1018, 400, "Attachment is not published")
INVALID_LANGUAGE = _e(
    1023,
    400,
    "Invalid language chosen. Supported languages is Norsk bokmål (nb), Nynorsk (nn) and "
    "English (en)",
)
INVALID_DATE_RANGE = _e(1027, 400, "From date cannot be after to date")
RECIPIENT_LOOKUP_FAILED = _e(
    1029, 404, "Could not find partyId for the following recipients: {recipients}"
)
RECIPIENT_RESERVED = _e(
    1030,
    422,
    "Recipient {recipient} has reserved themselves from public correspondences. Can be "
    "overridden using the 'IgnoreReservation' flag.",
)
RESERVATION_REGISTRY_FAILED = _e(1032, 500, "Contact reservation registry lookup failed")
INVALID_IDEMPOTENCY_KEY = _e(1033, 400, "The idempotency key must be a valid non-empty GUID")
DUPLICATE_IDEMPOTENT_KEY = _e(
    1034, 409, "A correspondence with the same idempotent key already exists"
)
INVALID_REPLY_OPTIONS = _e(
    1035,
    400,
    "Reply options must be well-formed URIs and HTTPS with a max length of 255 characters",
)
SERVICE_OWNER_NOT_FOUND = _e(
    1036, 400, "Service owner/sender's organization number (9 digits) not found for resource"
)
ATTACHMENT_COUNT_EXCEEDED = _e(
    1038, 400, "A correspondence cannot contain more than 100 attachments in total"
)
MESSAGE_SENDER_NOT_PLAIN_TEXT = _e(1039, 400, "Message sender must be plain text")
RECIPIENTS_LACK_CONFIDENTIAL_ROLES = _e(
    1044,
    400,
    "The following organization recipients lack the roles required to receive confidential "
    "correspondences: {recipients}",
)
TRANSMISSION_SINGLE_RECIPIENT = _e(
    1045, 400, "Dialogporten transmissions only support one recipient"
)
TRANSMISSION_RECIPIENT_MISMATCH = _e(
    1046, 400, "The recipient of the transmission must be the party of the dialog"
)
IDEMPOTENT_KEY_MULTIPLE_RECIPIENTS = _e(
    1047, 400, "Idempotent key is not supported for requests with multiple recipients"
)
INVALID_DIALOG_ID = _e(1048, 400, "DialogportenDialogId must be a valid GUID")
TRANSMISSION_SERVICE_OWNER_MISMATCH = _e(
    1050, 400, "The service owner of the dialog must be the owner of the resource"
)
TRANSMISSION_NO_REPLY_OPTIONS = _e(
    1051, 400, "Transmissions cannot have reply options or require confirmation"
)
MULTIPLE_TRANSMISSION_TYPES = _e(
    1052, 400, "Only one DialogportenTransmissionType external reference is allowed"
)
TRANSMISSION_TYPE_WITHOUT_DIALOG = _e(
    1053,
    400,
    "A DialogportenTransmissionType external reference requires a DialogportenDialogId "
    "external reference",
)
DIALOG_NOT_FOUND = _e(1054, 404, "The dialog referenced by DialogportenDialogId was not found")
ATTACHMENT_EXPIRES_SOON = _e(
    1055, 400, "An existing attachment expires within 6 hours and cannot be used"
)
CONFIDENTIAL_REQUIRED = _e(
    1060, 400, "The resource requires correspondences to be marked as confidential"
)
CONFIDENTIAL_NOT_ALLOWED = _e(
    1061, 400, "The resource does not allow correspondences to be marked as confidential"
)
FORWARDING_AUTH_LEVEL = _e(
    1068,
    400,
    "AllowForwarding cannot be used on a resource that requires a minimum authentication level",
)
FORWARDING_SIZE = _e(
    1069,
    400,
    "AllowForwarding cannot be used when the attachments total more than 10 000 000 bytes",
)

# --- Attachments (2xxx) ------------------------------------------------------------------
ATTACHMENT_NOT_FOUND = _e(2001, 404, "The requested attachment was not found")
UPLOAD_FAILED = _e(2002, 502, "Error occurred during upload")
CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE = _e(
    2003, 400, "Cannot upload attachment to a correspondence that has been created"
)
INVALID_FILE_SIZE = _e(2004, 400, "File must have content and has a max file size of {limit}")
FILE_ALREADY_UPLOADED = _e(2005, 400, "File has already been or is being uploaded")
FILE_ALREADY_PURGED = _e(2006, 400, "File has already been purged")
PURGE_LINKED_ATTACHMENT = _e(
    2007,
    400,
    "Attachment cannot be purged as it is linked to at least one existing correspondence",
)
CHECKSUM_MISMATCH = _e(2008, 400, "Checksum mismatch")
FILENAME_MISSING = _e(2010, 400, "Filename is missing")
FILENAME_TOO_LONG = _e(2011, 400, "Filename is too long")
FILENAME_INVALID = _e(2012, 400, "Filename contains invalid characters")
FILETYPE_NOT_ALLOWED = _e(2013, 400, "Filetype not allowed")
ATTACHED_TO_PUBLISHED = _e(
    2016,
    400,
    "This attachment is associated with a published correspondence and can no longer be "
    "accessed by service owner",
)
EXPIRATION_TOO_SHORT = _e(
    2017, 400, "Attachment expiration time must be at least {days} days from creation"
)
ATTACHMENT_EXPIRED_CANT_PURGE = _e(2018, 400, "Attachment has expired and cannot be purged")
ATTACHMENT_PURGED_CANT_DOWNLOAD = _e(
    2019, 400, "Attachment has been purged and cannot be downloaded"
)
ATTACHMENT_EXPIRED_CANT_DOWNLOAD = _e(
    2020, 400, "Attachment has expired and cannot be downloaded"
)
FILENAME_RESERVED = _e(2021, 400, "Filename is a reserved Windows device name")
UPLOAD_TIMED_OUT = _e(2022, 408, "Upload timed out because data arrived too slowly")

# --- Notifications (3xxx) ----------------------------------------------------------------
TEMPLATE_NOT_FOUND = _e(
    3001, 404, "The requested notification template with the given language was not found"
)
MISSING_EMAIL_CONTENT = _e(
    3002, 400, "Email body and subject must be provided when sending email notifications"
)
MISSING_EMAIL_REMINDER_CONTENT = _e(
    3003,
    400,
    "Reminder email body and subject must be provided when sending reminder email "
    "notifications",
)
MISSING_SMS_CONTENT = _e(3004, 400, "SMS body must be provided when sending SMS notifications")
MISSING_SMS_REMINDER_CONTENT = _e(
    3005, 400, "Reminder SMS body must be provided when sending reminder SMS notifications"
)
MISSING_PREFERRED_CONTENT = _e(
    3006,
    400,
    "Email body, subject and SMS body must be provided when sending preferred notifications",
)
MISSING_PREFERRED_REMINDER_CONTENT = _e(
    3007,
    400,
    "Reminder email body, subject and SMS body must be provided when sending reminder "
    "preferred notifications",
)
INVALID_EMAIL = _e(3011, 400, "Invalid email provided for custom recipient.")
INVALID_MOBILE_NUMBER = _e(
    3012,
    400,
    "Invalid mobile number provided. Mobile number can contain only '+' and numeric "
    "characters, and it must adhere to the E.164 standard.",
)
RECIPIENT_NAME_KEYWORD_NOT_ALLOWED = _e(
    3015,
    400,
    "Recipient overrides with email or mobile number are not allowed when using notification "
    "recipient name because of name lookup",
)
CUSTOM_RECIPIENT_MULTIPLE_RECIPIENTS = _e(
    3017, 400, "Custom recipient with multiple recipients is not allowed"
)
CUSTOM_RECIPIENT_MULTIPLE_IDENTIFIERS = _e(
    3018, 400, "Custom recipient with multiple identifiers is not allowed"
)
CUSTOM_RECIPIENT_NO_IDENTIFIER = _e(
    3019, 400, "Custom recipient without identifier is not allowed"
)
OVERRIDE_REQUIRES_CUSTOM_RECIPIENTS = _e(
    3022,
    400,
    "OverrideRegisteredContactInformation flag can only be used when CustomRecipients is "
    "provided",
)
INVALID_NOTIFICATION_TEMPLATE = _e(3023, 400, "The notification template is not valid")
MISSING_EMAIL_AND_SMS_CONTENT = _e(
    3024,
    400,
    "Email body, subject and SMS body must be provided when sending EmailAndSms notifications",
)
MISSING_EMAIL_AND_SMS_REMINDER_CONTENT = _e(
    3025,
    400,
    "Reminder email body, subject and SMS body must be provided when sending EmailAndSms "
    "reminder notifications",
)

# --- Authorization (4xxx) ----------------------------------------------------------------
NO_ACCESS_TO_RESOURCE = _e(
    4001,
    401,
    "You must use an Altinn token, DialogToken or log in to IDPorten as someone with access "
    "to the resource and organization in Altinn Authorization",
    # Upstream's text reads like a bad token; the token is valid, its organisation is not the
    # resource's (or the item's) owner.
    "The organisation in the token does not own, and has no access to, the resource "
    "(or the correspondence or attachment) this request is about. The token itself is valid.",
)
PARTY_UUID_NOT_FOUND = _e(4002, 400, "Could not retrieve party uuid from lookup in Altinn Register")
COULD_NOT_DETERMINE_CALLER = _e(4006, 401, "Could not determine caller")
ATTACHMENT_RESOURCE_TYPE = _e(
    4009,
    400,
    "Resource type is not supported. Resource must be of type GenericAccessResource or "
    "CorrespondenceService.",
)
CORRESPONDENCE_RESOURCE_TYPE = _e(
    4010,
    400,
    "Resource type is not supported. Resource must be of type CorrespondenceService, or "
    "AltinnApp for Dialogporten transmissions.",
)
