"""Outgoing mail through SES v2; bodies are rendered by renewal.domain.mail."""

from __future__ import annotations

import os
import time
from typing import Any

from renewal.adapters.aws import client
from renewal.domain.mail import Mail


class SesMailer:
    def __init__(self) -> None:
        self._client: Any = client("sesv2")  # made now (at init), on the shared session

    def send(self, mail: Mail) -> None:
        self._client.send_email(
            FromEmailAddress=os.environ["MAIL_FROM"],
            Destination={"ToAddresses": [mail.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": mail.text, "Charset": "UTF-8"},
                        "Html": {"Data": mail.html, "Charset": "UTF-8"},
                    },
                }
            },
        )


class PacedMailer:
    """Sends through `inner` at most `per_second` mails a second from this instance: SES's
    sending rate, shared by the senders the queue's event source runs at once."""

    def __init__(self, inner: Any, per_second: float, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self._inner = inner
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0

    def send(self, mail: Mail) -> None:
        wait = self._next_at - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._next_at = max(self._clock(), self._next_at) + self._interval
        self._inner.send(mail)
