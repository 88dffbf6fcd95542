"""The request vocabulary's enums (upstream's ``*Ext`` enums, behaviour §3.1).

Statuses are not here: they belong to the lifecycle, ``shared.core.statuses``.
"""

from __future__ import annotations

import enum


class NotificationTemplate(enum.IntEnum):
    CustomMessage = 0
    GenericAltinnMessage = 1
    # Internal only (upstream's "Altinn2Message"): reachable with the integer 2; it has no
    # template, so it ends in 404/3001 (quirk Q7). Its name is not accepted on input.
    Altinn2Message = 2


class NotificationChannel(enum.IntEnum):
    Email = 0
    Sms = 1
    EmailPreferred = 2
    SmsPreferred = 3
    EmailAndSms = 4


class EmailContentType(enum.IntEnum):
    Plain = 0
    Html = 1


class ReferenceType(enum.IntEnum):
    Generic = 0
    AltinnAppInstance = 1
    AltinnBrokerFileTransfer = 2
    DialogportenDialogId = 3
    DialogportenProcessId = 4
    DialogportenTransmissionId = 5
    DialogportenTransmissionType = 6


class TransmissionType(enum.IntEnum):
    Information = 1
    Acceptance = 2
    Rejection = 3
    Request = 4
    Alert = 5
    Decision = 6
    Submission = 7
    Correction = 8


class DataLocationType(enum.IntEnum):
    NewCorrespondenceAttachment = 0
    ExistingCorrespondenceAttachment = 1
    ExistingExternalStorage = 2
