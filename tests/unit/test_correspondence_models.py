"""The request-shape gate of initialize correspondence (behaviour §3.1, §5.2) and the response model
(§4)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.core import errors
from shared.models.attachment import BaseAttachment
from shared.core.statuses import CorrespondenceStatus
from shared.models.enums import DataLocationType, EmailContentType, NotificationChannel, NotificationTemplate, ReferenceType
from shared.models.correspondence import InitializeCorrespondencesRequest, parse_initialize_request
from shared.models.responses import InitializeCorrespondencesResponse, InitializedCorrespondence
from shared.models.binding import validate_model
from tests.support.builders import baseline_request, notification, with_path

C = "correspondence"


def paths_of(data: Any) -> list[str]:
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(data)
    return [e.path for e in caught.value.errors]


def ok(data: Any) -> InitializeCorrespondencesRequest:
    return parse_initialize_request(data)


def set_(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    return with_path(request, path, value)


# --- baseline, casing, unknown fields -------------------------------------------------------
def test_baseline_request_is_valid() -> None:
    request = ok(baseline_request())
    c = request.correspondence
    assert c.resource_id == "1"
    assert c.content.message_title == "test"
    assert c.property_list == {"deserunt_12": "1", "culpa_852": "2", "anim5": "3"}
    assert request.recipients == ["urn:altinn:organization:identifier-no:991825827"]
    assert request.existing_attachments == []
    assert request.idempotent_key is None
    assert c.notification is None


def test_pascal_case_body_is_accepted() -> None:
    body = {
        "Correspondence": {
            "ResourceId": "1",
            "SendersReference": "1",
            "Content": {
                "Language": "nb",
                "MessageTitle": "title",
                "MessageSummary": "summary",
                "MessageBody": "body",
            },
            "ReplyOptions": [{"LinkUrl": "https://example.com", "LinkText": "x"}],
            "ExternalReferences": [{"ReferenceValue": "1", "ReferenceType": "Generic"}],
            "Notification": {
                "NotificationTemplate": "CustomMessage",
                "EmailSubject": "s",
                "EmailBody": "b",
                "SendReminder": True,
                "ReminderEmailSubject": "s",
                "ReminderEmailBody": "b",
            },
            "IsConfirmationNeeded": False,
            "DUEDATETIME": "2999-01-01T00:00:00Z",
        },
        "Recipients": ["0192:991825827"],
        "ExistingAttachments": [],
        "IdempotentKey": str(uuid.uuid4()),
    }
    request = ok(body)
    c = request.correspondence
    assert c.reply_options[0].link_url == "https://example.com"
    assert c.notification is not None and c.notification.send_reminder is True
    assert c.due_date_time == datetime(2999, 1, 1, tzinfo=timezone.utc)
    assert c.external_references[0].reference_type is ReferenceType.Generic
    assert request.idempotent_key is not None


@pytest.mark.parametrize("key", ["linkURL", "linkUrl", "LinkUrl", "LINKURL", "linkurl"])
def test_link_url_any_case(key: str) -> None:
    request = ok(baseline_request(correspondence__replyOptions=[{key: "https://a.no"}]))
    assert request.correspondence.reply_options[0].link_url == "https://a.no"


def test_last_of_case_variants_wins() -> None:
    request = baseline_request()
    request[C]["content"]["MessageTitle"] = "second"
    assert ok(request).correspondence.content.message_title == "second"


def test_unknown_and_deprecated_fields_are_ignored() -> None:
    request = baseline_request()
    request["somethingElse"] = {"deep": [1, 2, {"x": None}]}
    request[C].update(
        {
            "sender": 12345,  # deprecated, wrong type: still ignored
            "visibleFrom": "not a date",
            "isReservable": "yes",
            "allowSystemDeleteAfter": 7,
            "unknown": [],
        }
    )
    request[C]["notification"] = notification(sendersReference=["ignored"], extra=1)
    ok(request)


def test_output_uses_camel_case_and_enum_names() -> None:
    request = ok(
        baseline_request(
            correspondence__notification=notification(notificationChannel=4, smsBody="x"),
            correspondence__externalReferences=[{"referenceValue": "a", "referenceType": 0}],
        )
    )
    dumped = request.model_dump(mode="json")
    assert dumped[C]["content"]["messageTitle"] == "test"
    assert dumped[C]["notification"]["notificationChannel"] == "EmailAndSms"
    assert dumped[C]["notification"]["notificationTemplate"] == "CustomMessage"
    assert dumped[C]["externalReferences"][0]["referenceType"] == "Generic"
    assert "existingAttachments" in dumped


# --- root and structure -------------------------------------------------------------------------
@pytest.mark.parametrize("data", [None, [], [1], 5, 1.5, "text", True])
def test_non_object_root(data: Any) -> None:
    assert paths_of(data) == ["$"]


def test_missing_correspondence() -> None:
    assert paths_of({"recipients": ["0192:991825827"]}) == ["$.correspondence"]


@pytest.mark.parametrize("value", [None, [], "x", 3])
def test_content_must_be_an_object(value: Any) -> None:
    assert paths_of(baseline_request(correspondence__content=value)) == [
        "$.correspondence.content"
    ]


def test_every_failing_field_is_listed() -> None:
    request = baseline_request()
    request[C]["content"]["messageTitle"] = ""
    request[C]["content"]["messageBody"] = None
    request[C]["sendersReference"] = ""
    request[C]["isConfidential"] = "true"
    request["recipients"] = ["0192:991825827", "bad"]
    assert sorted(paths_of(request)) == sorted(
        [
            "$.correspondence.content.messageTitle",
            "$.correspondence.content.messageBody",
            "$.correspondence.sendersReference",
            "$.correspondence.isConfidential",
            "$.recipients[1]",
        ]
    )


def test_messages_do_not_echo_values() -> None:
    secret = "07827199404"
    request = baseline_request(recipients=[secret], correspondence__messageSender=secret * 30)
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(request)
    for error in caught.value.errors:
        assert secret not in error.message


# --- strings and limits ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, limit",
    [
        ("content.messageTitle", 255),
        ("content.messageSummary", 255),
        ("content.messageBody", 30_000),
        ("sendersReference", 4096),
        ("messageSender", 255),
        ("resourceId", 255),
    ],
)
def test_length_limits(path: str, limit: int) -> None:
    ok(baseline_request(**{f"correspondence__{path.replace('.', '__')}": "a" * limit}))
    assert paths_of(
        baseline_request(**{f"correspondence__{path.replace('.', '__')}": "a" * (limit + 1)})
    ) == [f"$.correspondence.{path}"]


def test_lengths_count_utf16_units() -> None:
    ok(baseline_request(correspondence__content__messageTitle="😀" * 127 + "a"))
    assert paths_of(baseline_request(correspondence__content__messageTitle="😀" * 128)) == [
        "$.correspondence.content.messageTitle"
    ]


@pytest.mark.parametrize("path", ["content.messageTitle", "content.messageBody", "sendersReference", "resourceId"])
@pytest.mark.parametrize("value", ["", "   ", None, 5, True, ["x"]])
def test_required_strings(path: str, value: Any) -> None:
    request = baseline_request(**{f"correspondence__{path.replace('.', '__')}": value})
    assert paths_of(request) == [f"$.correspondence.{path}"]


@pytest.mark.parametrize("path", ["content.messageTitle", "content.messageBody", "sendersReference", "resourceId"])
def test_required_strings_missing(path: str) -> None:
    request = baseline_request()
    parent = request[C]
    *head, last = path.split(".")
    for part in head:
        parent = parent[part]
    del parent[last]
    assert paths_of(request) == [f"$.correspondence.{path}"]


def test_optional_strings_accept_null_and_empty() -> None:
    request = ok(
        baseline_request(
            correspondence__messageSender=None,
            correspondence__content__messageSummary=None,
            correspondence__content__language=None,
        )
    )
    assert request.correspondence.content.summary == ""
    assert request.correspondence.content.effective_language == "nb"
    ok(baseline_request(correspondence__messageSender="", correspondence__content__language=""))


def test_unpaired_surrogate_is_refused() -> None:
    assert paths_of(baseline_request(correspondence__content__messageTitle="a\ud800b")) == [
        "$.correspondence.content.messageTitle"
    ]


# --- resourceId ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [("1", "1"), ("urn:altinn:resource:1", "1"), ("ttd-corr-1", "ttd-corr-1")],
)
def test_resource_id_prefix_stripped(value: str, expected: str) -> None:
    assert ok(baseline_request(correspondence__resourceId=value)).correspondence.resource_id == expected


@pytest.mark.parametrize("value", ["a:b", "urn:altinn:resource:", "urn:altinn:resource:a:b", "urn:other:x"])
def test_resource_id_invalid(value: str) -> None:
    assert paths_of(baseline_request(correspondence__resourceId=value)) == [
        "$.correspondence.resourceId"
    ]


# --- language (Q3) ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nb", "nN", "EN", "xx", "sv"])
def test_language_two_letters_pass_the_shape_check(value: str) -> None:
    assert ok(baseline_request(correspondence__content__language=value)).correspondence.content.language == value


@pytest.mark.parametrize("value", [None, "", " ", "  ", "\t", "\u00a0", ...])
def test_language_null_empty_or_whitespace_is_nb(value: Any) -> None:
    """Behaviour §3.1.3 (issue #18 row 6: " " was 400 STD-00000): the default, as stored and shown."""
    request = baseline_request(correspondence__content__language=value)
    if value is ...:
        del request["correspondence"]["content"]["language"]
    content = ok(request).correspondence.content
    assert content.language == "nb" and content.effective_language == "nb"


@pytest.mark.parametrize("value", ["nob", "n", "iv", "english", 5])
def test_language_shape_errors(value: Any) -> None:
    assert paths_of(baseline_request(correspondence__content__language=value)) == [
        "$.correspondence.content.language"
    ]


# --- property list ------------------------------------------------------------------------------
def test_property_list_limits() -> None:
    ok(baseline_request(correspondence__propertyList={f"k{i}": "v" for i in range(10)}))
    ok(baseline_request(correspondence__propertyList={"k" * 50: "v" * 300}))
    ok(baseline_request(correspondence__propertyList=None))
    for bad in (
        {f"k{i}": "v" for i in range(11)},
        {"k" * 51: "v"},
        {"k": "v" * 301},
        {"k": 1},
        {"k": None},
        ["k"],
    ):
        assert paths_of(baseline_request(correspondence__propertyList=bad)) == [
            "$.correspondence.propertyList"
        ]


# --- external references ------------------------------------------------------------------------
def ref(value: Any, kind: Any) -> dict[str, Any]:
    return {"referenceValue": value, "referenceType": kind}


def test_external_references_limits() -> None:
    ok(baseline_request(correspondence__externalReferences=[ref("x", 0)] * 10))
    assert paths_of(baseline_request(correspondence__externalReferences=[ref("x", 0)] * 11)) == [
        "$.correspondence.externalReferences"
    ]


@pytest.mark.parametrize("kind", [5, "DialogportenTransmissionId", "dialogportentransmissionid"])
def test_transmission_id_reference_forbidden(kind: Any) -> None:
    assert paths_of(baseline_request(correspondence__externalReferences=[ref("x", kind)])) == [
        "$.correspondence.externalReferences"
    ]


@pytest.mark.parametrize("value", ["Submission", "submission", "7", "1", "Correction"])
def test_transmission_type_values_accepted(value: str) -> None:
    ok(
        baseline_request(
            correspondence__externalReferences=[
                ref(value, 6),
                ref(str(uuid.uuid4()), 3),
            ]
        )
    )


@pytest.mark.parametrize("value", ["InvalidTransmissionType", "20", "0", "", None])
def test_transmission_type_values_refused(value: Any) -> None:
    assert paths_of(baseline_request(correspondence__externalReferences=[ref(value, 6)])) == [
        "$.correspondence.externalReferences"
    ]


def test_two_transmission_types_are_left_to_1052() -> None:
    ok(baseline_request(correspondence__externalReferences=[ref("bad", 6), ref("bad", 6)]))


@pytest.mark.parametrize("kind", [7, -1, "Unknown", True, 1.0, None])
def test_undefined_reference_type(kind: Any) -> None:
    assert paths_of(baseline_request(correspondence__externalReferences=[ref("x", kind)])) == [
        "$.correspondence.externalReferences[0].referenceType"
    ]


def test_reference_value_must_be_present() -> None:
    assert paths_of(
        baseline_request(correspondence__externalReferences=[{"referenceType": 0}])
    ) == ["$.correspondence.externalReferences[0].referenceValue"]


# --- enums --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        (0, NotificationChannel.Email),
        (4, NotificationChannel.EmailAndSms),
        ("sms", NotificationChannel.Sms),
        ("EMAILPREFERRED", NotificationChannel.EmailPreferred),
        ("3", NotificationChannel.SmsPreferred),
    ],
)
def test_notification_channel_names_and_integers(value: Any, expected: NotificationChannel) -> None:
    n = notification(notificationChannel=value, smsBody="x")
    request = ok(baseline_request(correspondence__notification=n))
    assert request.correspondence.notification.notification_channel is expected


@pytest.mark.parametrize("field", ["notificationChannel", "reminderNotificationChannel", "emailContentType", "reminderEmailContentType"])
@pytest.mark.parametrize("value", [5, 99, -1, "Fax", True, False, 1.0, [0], {"a": 1}])
def test_undefined_enum_values_are_shape_errors(field: str, value: Any) -> None:
    n = notification(**{field: value})
    assert paths_of(baseline_request(correspondence__notification=n)) == [
        f"$.correspondence.notification.{field}"
    ]


def test_email_content_type_values() -> None:
    n = notification(emailContentType="html", reminderEmailContentType=0)
    request = ok(baseline_request(correspondence__notification=n))
    assert request.correspondence.notification.email_content_type is EmailContentType.Html
    assert request.correspondence.notification.reminder_email_content_type is EmailContentType.Plain


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, NotificationTemplate.CustomMessage),
        (0, NotificationTemplate.CustomMessage),
        (1, NotificationTemplate.GenericAltinnMessage),
        ("genericaltinnmessage", NotificationTemplate.GenericAltinnMessage),
        (2, NotificationTemplate.Altinn2Message),
    ],
)
def test_notification_template_values(value: Any, expected: NotificationTemplate) -> None:
    request = ok(baseline_request(correspondence__notification=notification(notificationTemplate=value)))
    assert request.correspondence.notification.template is expected


@pytest.mark.parametrize("value", [3, 99, -1, 2**31 - 1, "5"])
def test_undefined_notification_template_integer_is_3023(value: Any) -> None:
    with pytest.raises(errors.ProblemError) as caught:
        parse_initialize_request(baseline_request(correspondence__notification=notification(notificationTemplate=value)))
    assert caught.value.entry.error_code == 3023
    assert caught.value.status == 400


@pytest.mark.parametrize("value", ["Altinn2Message", "Unknown", True, 1.5, 2**31, []])
def test_notification_template_shape_errors(value: Any) -> None:
    assert paths_of(baseline_request(correspondence__notification=notification(notificationTemplate=value))) == [
        "$.correspondence.notification.notificationTemplate"
    ]


def test_shape_errors_win_over_3023() -> None:
    request = baseline_request(correspondence__notification=notification(notificationTemplate=7))
    request[C]["content"]["messageTitle"] = ""
    assert paths_of(request) == ["$.correspondence.content.messageTitle"]


# --- notification fields ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, limit",
    [
        ("emailSubject", 512),
        ("emailBody", 10_000),
        ("smsBody", 2_144),
        ("reminderEmailSubject", 512),
        ("reminderEmailBody", 10_000),
        ("reminderSmsBody", 2_144),
    ],
)
def test_notification_text_limits(field: str, limit: int) -> None:
    ok(baseline_request(correspondence__notification=notification(**{field: "a" * limit})))
    assert paths_of(baseline_request(correspondence__notification=notification(**{field: "a" * (limit + 1)}))) == [
        f"$.correspondence.notification.{field}"
    ]


def test_notification_defaults() -> None:
    request = ok(baseline_request(correspondence__notification={}))
    n = request.correspondence.notification
    assert n.template is NotificationTemplate.CustomMessage
    assert n.notification_channel is NotificationChannel.Email
    assert n.email_content_type is EmailContentType.Plain
    assert n.send_reminder is False
    assert n.override_registered_contact_information is False
    assert n.effective_reminder_channel is NotificationChannel.Email
    assert n.effective_custom_recipients == []


def test_custom_recipient_precedence() -> None:
    a, b, c = ({"emailAddress": f"{x}@example.com"} for x in "abc")
    n = ok(baseline_request(correspondence__notification=notification(customRecipients=[a], customRecipient=b, customNotificationRecipients=[{"recipientToOverride": "x", "recipients": [c]}]))).correspondence.notification
    assert [r.email_address for r in n.effective_custom_recipients] == ["a@example.com"]
    n = ok(baseline_request(correspondence__notification=notification(customRecipients=[], customRecipient=b))).correspondence.notification
    assert [r.email_address for r in n.effective_custom_recipients] == ["b@example.com"]
    n = ok(baseline_request(correspondence__notification=notification(customNotificationRecipients=[{"recipientToOverride": "x", "recipients": [c]}]))).correspondence.notification
    assert [r.email_address for r in n.effective_custom_recipients] == ["c@example.com"]


def test_custom_recipient_caps() -> None:
    one = {"emailAddress": "a@example.com"}
    ok(baseline_request(correspondence__notification=notification(customRecipients=[one] * 100)))
    assert paths_of(baseline_request(correspondence__notification=notification(customRecipients=[one] * 101))) == [
        "$.correspondence.notification.customRecipients"
    ]
    assert paths_of(
        baseline_request(correspondence__notification=notification(customNotificationRecipients=[{"recipientToOverride": "x", "recipients": [one] * 101}]))
    ) == ["$.correspondence.notification.customNotificationRecipients[0].recipients"]


def test_custom_recipient_field_types() -> None:
    assert paths_of(baseline_request(correspondence__notification=notification(customRecipients=[{"mobileNumber": 4790000000}]))) == [
        "$.correspondence.notification.customRecipients[0].mobileNumber"
    ]


# --- booleans, dates, GUIDs -----------------------------------------------------------------------
@pytest.mark.parametrize("field", ["isConfirmationNeeded", "isConfidential", "allowForwarding", "ignoreReservation"])
@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_booleans_are_strict(field: str, value: Any) -> None:
    if field == "ignoreReservation" and value is None:
        ok(baseline_request(**{f"correspondence__{field}": value}))
        return
    assert paths_of(baseline_request(**{f"correspondence__{field}": value})) == [f"$.correspondence.{field}"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2030-05-01T12:00:00Z", datetime(2030, 5, 1, 12, tzinfo=timezone.utc)),
        ("2030-05-01T14:00:00+02:00", datetime(2030, 5, 1, 12, tzinfo=timezone.utc)),
        ("2030-05-01T12:00:00", datetime(2030, 5, 1, 12, tzinfo=timezone.utc)),
        ("2030-05-01T12:00:00.1234567Z", datetime(2030, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2030-05-01", datetime(2030, 5, 1, tzinfo=timezone.utc)),
    ],
)
def test_dates(value: str, expected: datetime) -> None:
    assert ok(baseline_request(correspondence__dueDateTime=value)).correspondence.due_date_time == expected


@pytest.mark.parametrize("value", ["tomorrow", 1700000000, "2030-13-01T00:00:00Z", "9999-12-31T23:59:59-14:00", True, ""])
def test_invalid_dates(value: Any) -> None:
    assert paths_of(baseline_request(correspondence__requestedPublishTime=value)) == [
        "$.correspondence.requestedPublishTime"
    ]


def test_idempotent_key() -> None:
    key = str(uuid.uuid4())
    assert str(ok(baseline_request(idempotentKey=key)).idempotent_key) == key
    assert ok(baseline_request(idempotentKey=None)).idempotent_key is None
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(baseline_request(idempotentKey="00000000-0000-0000-0000-000000000000"))
    assert caught.value.errors[0].path == "$.idempotentKey"
    assert caught.value.errors[0].message == errors.INVALID_IDEMPOTENCY_KEY.message
    for bad in ("not-a-guid", key.replace("-", ""), "{" + key + "}", 5):
        assert paths_of(baseline_request(idempotentKey=bad)) == ["$.idempotentKey"]


def test_existing_attachments() -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    assert [str(i) for i in ok(baseline_request(existingAttachments=ids)).existing_attachments] == ids
    assert ok(baseline_request(existingAttachments=None)).existing_attachments == []
    assert paths_of(baseline_request(existingAttachments=[ids[0], "x"])) == ["$.existingAttachments[1]"]
    assert paths_of(baseline_request(existingAttachments=[ids[0]] * 1001)) == ["$.existingAttachments"]


# --- reply options --------------------------------------------------------------------------------
def test_reply_options() -> None:
    ok(baseline_request(correspondence__replyOptions=None))
    ok(baseline_request(correspondence__replyOptions=[{"linkURL": "https://a.no", "linkText": None}] * 100))
    assert paths_of(baseline_request(correspondence__replyOptions=[{"linkURL": "https://a.no"}] * 101)) == [
        "$.correspondence.replyOptions"
    ]
    assert paths_of(baseline_request(correspondence__replyOptions=[{"linkText": "x"}])) == [
        "$.correspondence.replyOptions[0].linkURL"
    ]
    # Null or over-long URLs pass the shape check: 1035 decides.
    ok(baseline_request(correspondence__replyOptions=[{"linkURL": None}, {"linkURL": "https://" + "a" * 300}]))


# --- attachments ------------------------------------------------------------------------------------
def attachment(**fields: Any) -> dict[str, Any]:
    result = {"fileName": "test-file.txt", "sendersReference": "1234", "isEncrypted": False, "checksum": None}
    result.update(fields)
    return result


def test_attachment_metadata_shape() -> None:
    request = ok(baseline_request(correspondence__content__attachments=[attachment(dataLocationType=2, displayName="d" * 255, expirationInDays=14, id=str(uuid.uuid4()))]))
    a = request.correspondence.content.attachments[0]
    assert a.data_location_type is DataLocationType.ExistingExternalStorage
    assert a.checksum == ""
    assert a.expiration_in_days == 14
    ok(baseline_request(correspondence__content__attachments=[attachment(fileName="a" * 251 + ".txt")]))
    ok(baseline_request(correspondence__content__attachments=[attachment(fileName="")]))
    ok(baseline_request(correspondence__content__attachments=None))


@pytest.mark.parametrize(
    "fields, path",
    [
        ({"fileName": "a" * 256}, "fileName"),
        ({"displayName": "a" * 256}, "displayName"),
        ({"sendersReference": ""}, "sendersReference"),
        ({"sendersReference": "a" * 4097}, "sendersReference"),
        ({"checksum": "A" * 32}, "checksum"),
        ({"checksum": "a" * 31}, "checksum"),
        ({"checksum": "a" * 33}, "checksum"),
        ({"expirationInDays": "14"}, "expirationInDays"),
        ({"expirationInDays": 2**31}, "expirationInDays"),
        ({"expirationInDays": 1.5}, "expirationInDays"),
        ({"dataLocationType": 3}, "dataLocationType"),
        ({"isEncrypted": "false"}, "isEncrypted"),
    ],
)
def test_attachment_metadata_shape_errors(fields: dict[str, Any], path: str) -> None:
    assert paths_of(baseline_request(correspondence__content__attachments=[attachment(**fields)])) == [
        f"$.correspondence.content.attachments[0].{path}"
    ]


def test_attachment_missing_file_name() -> None:
    a = attachment()
    del a["fileName"]
    assert paths_of(baseline_request(correspondence__content__attachments=[a])) == [
        "$.correspondence.content.attachments[0].fileName"
    ]


@pytest.mark.parametrize("checksum", ["", "   ", None, "0123456789abcdef0123456789abcdef", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"])
def test_checksum_accepted(checksum: Any) -> None:
    ok(baseline_request(correspondence__content__attachments=[attachment(checksum=checksum)]))


def test_base_attachment_is_reusable() -> None:
    model = validate_model(BaseAttachment, {"FileName": "a.pdf", "SendersReference": "x", "ExpirationInDays": 3})
    assert model.file_name == "a.pdf" and model.expiration_in_days == 3
    with pytest.raises(errors.RequestValidationError) as caught:
        validate_model(BaseAttachment, {"fileName": "a.pdf"})
    assert [e.path for e in caught.value.errors] == ["$.sendersReference"]


# --- response -----------------------------------------------------------------------------------------
def test_response_serialisation() -> None:
    cid, aid = uuid.uuid4(), uuid.uuid4()
    response = InitializeCorrespondencesResponse(
        correspondences=[
            InitializedCorrespondence(
                correspondence_id=cid,
                status=CorrespondenceStatus.ReadyForPublish,
                recipient="urn:altinn:organization:identifier-no:991825827",
            )
        ],
        attachment_ids=[aid],
    )
    body = json.loads(response.model_dump_json())
    assert body == {
        "correspondences": [
            {
                "correspondenceId": str(cid),
                "status": "ReadyForPublish",
                "recipient": "urn:altinn:organization:identifier-no:991825827",
                "notifications": None,
            }
        ],
        "attachmentIds": [str(aid)],
    }
    assert response.model_dump(mode="json")["correspondences"][0]["status"] == "ReadyForPublish"


@pytest.mark.parametrize("status, value", [(s, s.number) for s in CorrespondenceStatus])
def test_status_values(status: CorrespondenceStatus, value: int) -> None:
    expected = ["Initialized", "ReadyForPublish", "Published", "Fetched", "Read", "Replied", "Confirmed", "PurgedByRecipient", "PurgedByAltinn", "Archived", "Reserved", "Failed", "AttachmentsDownloaded", "Forwarded"]
    assert expected[value] == status.name == status
    assert CorrespondenceStatus.from_number(value) is status


# --- arbitrary JSON never escapes as anything but our two errors ---------------------------------------
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
field_names = st.sampled_from(
    ["correspondence", "Correspondence", "recipients", "existingAttachments", "idempotentKey", "content", "resourceId", "sendersReference", "messageTitle", "messageBody", "notification", "notificationTemplate", "externalReferences", "replyOptions", "propertyList", "attachments", "customRecipients", "dueDateTime", "language"]
)
shaped_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(field_names | st.text(max_size=5), children, max_size=6),
    max_leaves=40,
)


def _parse_only_our_errors(data: Any) -> None:
    try:
        result = parse_initialize_request(data)
    except errors.RequestValidationError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.path.startswith("$")
            assert isinstance(error.message, str) and error.message
    except errors.ProblemError as exc:
        assert exc.entry.error_code == 3023
    else:
        assert isinstance(result, InitializeCorrespondencesRequest)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(json_values)
def test_arbitrary_json_values(data: Any) -> None:
    _parse_only_our_errors(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(shaped_values)
def test_arbitrary_request_shaped_values(data: Any) -> None:
    _parse_only_our_errors(data)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(["correspondence", "correspondence.content", "correspondence.notification", "correspondence.content.attachments", "correspondence.replyOptions", "correspondence.externalReferences", "recipients", "idempotentKey", "correspondence.dueDateTime", "correspondence.propertyList", "correspondence.notification.customRecipients"]), json_values)
def test_arbitrary_values_inside_a_valid_request(path: str, value: Any) -> None:
    _parse_only_our_errors(set_(baseline_request(), path, value))
