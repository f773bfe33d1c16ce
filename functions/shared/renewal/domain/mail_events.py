"""SES's bounce and complaint notifications, read into what they mean for an address (no I/O).

SES sends them, for mail sent with our configuration set, to EventBridge (the template's rule puts
them on the mail-events queue) in this shape: `{"detail-type": "Email Bounced", "source":
"aws.ses", "detail": {"eventType": "Bounce", "bounce": {...}, "mail": {...}}}`. The same event
body also arrives bare (an SNS destination with raw delivery: `{"eventType": ...}`), wrapped in an
SNS envelope (`{"Type": "Notification", "Message": "<json>"}`), or as an identity notification
(`{"notificationType": "Bounce", ...}`); all four are read alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

BOUNCED = "bounced"
COMPLAINED = "complained"
OK = "ok"
# A complaint outranks a bounce: once someone has marked our mail as spam we never mail them again.
SEVERITY = {OK: 0, BOUNCED: 1, COMPLAINED: 2}


@dataclass(frozen=True)
class Undeliverable:
    address: str
    status: str  # BOUNCED or COMPLAINED
    detail: str  # e.g. "Permanent/NoEmail", "abuse"


class NotAnSesEvent(ValueError):
    """The message is not a notification this reader understands."""


def ses_event(message: dict[str, Any]) -> dict[str, Any]:
    """The SES event inside whichever envelope it came in."""
    if message.get("Type") == "Notification" and isinstance(message.get("Message"), str):
        return ses_event(json.loads(message["Message"]))
    if isinstance(message.get("detail"), dict) and message.get("source") == "aws.ses":
        return dict(message["detail"])
    if "eventType" in message or "notificationType" in message:
        return message
    raise NotAnSesEvent("neither an SES event nor an SNS or EventBridge envelope of one")


def undeliverable(message: dict[str, Any]) -> list[Undeliverable]:
    """Addresses that must not be mailed again: permanent bounces and complaints. A transient bounce
    (mailbox full, a greylisting server) says nothing lasting, and other event types are ignored."""
    event = ses_event(message)
    kind = event.get("eventType") or event.get("notificationType")
    found = []
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        detail = f"Permanent/{bounce.get('bounceSubType', 'General')}"
        for recipient in bounce.get("bouncedRecipients") or []:
            found.append(Undeliverable(_address(recipient), BOUNCED, detail))
    elif kind == "Complaint":
        complaint = event.get("complaint") or {}
        detail = str(complaint.get("complaintFeedbackType") or "complaint")
        for recipient in complaint.get("complainedRecipients") or []:
            found.append(Undeliverable(_address(recipient), COMPLAINED, detail))
    return [u for u in found if u.address]


def worse(current: str, new: str) -> str:
    return new if SEVERITY.get(new, 0) > SEVERITY.get(current, 0) else current


def _address(recipient: Any) -> str:
    """`emailAddress` may carry a display name: `"Alice <alice@example.com>"`."""
    text = str((recipient or {}).get("emailAddress") or "").strip()
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1]
    return text.strip().lower()
