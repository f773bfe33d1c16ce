"""SES bounce and complaint events: read in every envelope, recorded on the accounts, and mail to
a marked address skipped (renewal.adapters.mail.DeliverableOnly)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from renewal.adapters.mail import DeliverableOnly
from renewal.domain.mail import Mail
from renewal.domain.mail_events import BOUNCED, COMPLAINED, OK, NotAnSesEvent, Undeliverable, undeliverable, worse
from renewal.usecases.mail_events import MailEvents

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def bounce(kind: str = "Permanent", *addresses: str) -> dict[str, Any]:
    """SES's event body (as documented for configuration-set event publishing)."""
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General" if kind == "Permanent" else "MailboxFull",
            "bouncedRecipients": [{"emailAddress": a, "action": "failed", "status": "5.1.1"} for a in addresses],
            "timestamp": "2026-12-03T09:00:00.000Z",
            "feedbackId": "0100018c-bounce",
        },
        "mail": {
            "timestamp": "2026-12-03T08:59:58.000Z",
            "source": "renewals@mail.esim-renew.com",
            "messageId": "0100018c-mail",
            "destination": list(addresses),
            "tags": {"ses:configuration-set": ["renewal-MailConfigurationSet-1"]},
        },
    }


def complaint(*addresses: str) -> dict[str, Any]:
    return {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": a} for a in addresses],
            "complaintFeedbackType": "abuse",
            "timestamp": "2026-12-03T09:05:00.000Z",
        },
        "mail": {"messageId": "0100018c-mail", "destination": list(addresses)},
    }


def eventbridge(detail: dict[str, Any]) -> dict[str, Any]:
    kind = "Email Bounced" if detail["eventType"] == "Bounce" else "Email Complained"
    return {"version": "0", "detail-type": kind, "source": "aws.ses", "account": "123456789012", "detail": detail}


def test_a_permanent_bounce_marks_each_recipient() -> None:
    found = undeliverable(eventbridge(bounce("Permanent", "Alice@Example.org", "Bob <bob@example.org>")))
    assert found == [
        Undeliverable("alice@example.org", BOUNCED, "Permanent/General"),
        Undeliverable("bob@example.org", BOUNCED, "Permanent/General"),
    ]


def test_a_transient_bounce_marks_nobody() -> None:
    assert undeliverable(eventbridge(bounce("Transient", "alice@example.org"))) == []


def test_a_complaint_marks_the_complainer() -> None:
    assert undeliverable(eventbridge(complaint("carol@example.org"))) == [
        Undeliverable("carol@example.org", COMPLAINED, "abuse")
    ]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda e: e,  # raw delivery from an SNS destination
        lambda e: {"Type": "Notification", "Message": json.dumps(e)},  # SNS's envelope
        lambda e: {**{k: v for k, v in e.items() if k != "eventType"}, "notificationType": e["eventType"]},
    ],
)
def test_every_envelope_reads_alike(wrap: Any) -> None:
    assert [u.address for u in undeliverable(wrap(bounce("Permanent", "dan@example.org")))] == ["dan@example.org"]


def test_what_is_not_an_ses_event_is_refused() -> None:
    with pytest.raises(NotAnSesEvent):
        undeliverable({"order_id": "o-1"})


def test_a_complaint_is_never_downgraded() -> None:
    assert worse(OK, BOUNCED) == BOUNCED and worse(BOUNCED, COMPLAINED) == COMPLAINED
    assert worse(COMPLAINED, BOUNCED) == COMPLAINED


class FakeReputation:
    def __init__(self, accounts: dict[str, list[str]]) -> None:
        self.accounts = accounts  # address -> account ids
        self.status: dict[str, str] = {}
        self.sends: list[str] = []

    def mark_undeliverable(self, address: str, status: str, detail: str, at: datetime) -> int:
        for account_id in self.accounts.get(address, []):
            self.status[account_id] = worse(self.status.get(account_id, OK), status)
        return len(self.accounts.get(address, []))

    def email_status(self, address: str) -> str:
        found = OK
        for account_id in self.accounts.get(address, []):
            found = worse(found, self.status.get(account_id, OK))
        return found


def test_recording_marks_every_account_with_the_address() -> None:
    reputation = FakeReputation({"alice@example.org": ["a-1", "a-2"]})
    report = MailEvents(reputation, clock=lambda: T0).record(eventbridge(bounce("Permanent", "alice@example.org")))
    assert report == {"addresses": 1, "accounts_marked": 2}
    assert reputation.status == {"a-1": BOUNCED, "a-2": BOUNCED}


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)


def test_mail_to_a_marked_address_is_skipped_and_others_are_sent() -> None:
    reputation = FakeReputation({"alice@example.org": ["a-1"], "bob@example.org": ["b-1"]})
    reputation.mark_undeliverable("alice@example.org", BOUNCED, "Permanent/General", T0)
    inner = RecordingMailer()
    mailer = DeliverableOnly(inner, reputation)
    mailer.send(Mail("alice@example.org", "Renewed", "text", "<p>html</p>"))
    mailer.send(Mail("bob@example.org", "Renewed", "text", "<p>html</p>"))
    assert [m.to for m in inner.sent] == ["bob@example.org"]
