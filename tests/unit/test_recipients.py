"""Recipient validation and normalisation (behaviour §3.2)."""

from __future__ import annotations

import pytest

from shared.core import errors
from shared.models.correspondence import parse_initialize_request
from shared.rules.initialize import check_unique_recipients
from shared.models.recipients import InvalidRecipient, is_national_identity_number, normalize_recipient
from tests.support.builders import VALID_PERSONS, baseline_request


@pytest.mark.parametrize("number", VALID_PERSONS)
def test_valid_identity_numbers(number: str) -> None:
    assert is_national_identity_number(number)
    assert normalize_recipient(number) == f"urn:altinn:person:identifier-no:{number}"
    assert (
        normalize_recipient(f"urn:altinn:person:identifier-no:{number}")
        == f"urn:altinn:person:identifier-no:{number}"
    )


@pytest.mark.parametrize("number", ["01019912345", "07827199404", "0782719940", "078271994050"])
def test_invalid_identity_numbers(number: str) -> None:
    assert not is_national_identity_number(number)


def test_k1_remainder_ten_is_invalid() -> None:
    # Find nine digits whose k1 remainder is 10: no two check digits can make them valid.
    for candidate in range(10**8, 10**8 + 2000):
        digits = f"{candidate:09d}"
        total = sum(int(d) * w for d, w in zip(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2)))
        if 11 - total % 11 == 10:
            for tail in range(100):
                assert not is_national_identity_number(digits + f"{tail:02d}")
            return
    pytest.fail("no candidate found")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0192:123456789", "urn:altinn:organization:identifier-no:123456789"),
        (
            "urn:altinn:organization:identifier-no:123456789",
            "urn:altinn:organization:identifier-no:123456789",
        ),
        (
            "urn:altinn:person:idporten-email:Test.Person@Example.COM",
            "urn:altinn:person:idporten-email:test.person@example.com",
        ),
        (
            "urn:altinn:person:legacy-selfidentified:SomeUser",
            "urn:altinn:person:legacy-selfidentified:someuser",
        ),
    ],
)
def test_normalisation(value: str, expected: str) -> None:
    assert normalize_recipient(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "01019912345",
        "123456789",  # bare 9 digits (Q2)
        "invalid-recipient",
        "1234567812390123",
        "1234:123456789",
        "urn:altinn:person:idporten-email:epost:test@example.com",
        "urn:altinn:person:idporten-email:@example.com",
        "urn:altinn:person:idporten-email:test@",
        "urn:altinn:person:idporten-email:a@b@c",
        "urn:altinn:person:idporten-email:",
        "urn:altinn:person:legacy-selfidentified:",
        "urn:altinn:person:legacy-selfidentified:a:b",
        "URN:ALTINN:ORGANIZATION:IDENTIFIER-NO:123456789",  # patterns are case-sensitive
        "0192:12345678",
        "0192:1234567890",
        "0192:123456789\n",
        "",
        "   ",
        "0192:١٢٣٤٥٦٧٨٩",  # non-ASCII digits
    ],
)
def test_invalid_recipients(value: str) -> None:
    with pytest.raises(InvalidRecipient):
        normalize_recipient(value)


def test_invalid_recipients_in_request_list_every_path() -> None:
    request = baseline_request(
        recipients=[
            "0192:991825827",
            "01019912345",
            "123456789",
            "invalid-recipient",
            "1234567812390123",
            "1234:123456789",
            "urn:altinn:person:idporten-email:epost:test@example.com",
            "",
            5,
        ]
    )
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(request)
    paths = [e.path for e in caught.value.errors]
    assert paths == [f"$.recipients[{i}]" for i in range(1, 9)]


@pytest.mark.parametrize("count", [1, 500])
def test_recipient_count_within_limits(count: int) -> None:
    recipients = [f"0192:{100000000 + i}" for i in range(count)]
    request = parse_initialize_request(baseline_request(recipients=recipients))
    assert len(request.recipients) == count


@pytest.mark.parametrize("recipients", [[], [f"0192:{100000000 + i}" for i in range(501)], None])
def test_recipient_count_outside_limits(recipients: object) -> None:
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(baseline_request(recipients=recipients))
    assert [e.path for e in caught.value.errors] == ["$.recipients"]


def test_missing_recipients() -> None:
    request = baseline_request()
    del request["recipients"]
    with pytest.raises(errors.RequestValidationError) as caught:
        parse_initialize_request(request)
    assert [e.path for e in caught.value.errors] == ["$.recipients"]


def test_recipients_normalised_in_request_order() -> None:
    request = parse_initialize_request(
        baseline_request(
            recipients=[
                "07827199405",
                "0192:123456789",
                "urn:altinn:person:idporten-email:A@B.NO",
            ]
        )
    )
    assert request.recipients == [
        "urn:altinn:person:identifier-no:07827199405",
        "urn:altinn:organization:identifier-no:123456789",
        "urn:altinn:person:idporten-email:a@b.no",
    ]


@pytest.mark.parametrize(
    "pair",
    [
        ["0192:123456789", "urn:altinn:organization:identifier-no:123456789"],
        ["07827199405", "urn:altinn:person:identifier-no:07827199405"],
        ["urn:altinn:person:idporten-email:a@b.no", "urn:altinn:person:idporten-email:A@b.no"],
    ],
)
def test_duplicates_after_normalisation_give_1006(pair: list[str]) -> None:
    request = parse_initialize_request(baseline_request(recipients=pair))
    with pytest.raises(errors.ProblemError) as caught:
        check_unique_recipients(request)
    assert caught.value.entry.error_code == 1006
    assert caught.value.status == 400


def test_distinct_recipients_pass_uniqueness() -> None:
    request = parse_initialize_request(
        baseline_request(recipients=["0192:123456789", "0192:123456788"])
    )
    check_unique_recipients(request)
