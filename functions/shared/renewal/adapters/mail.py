"""Outgoing mail through SES v2; bodies are rendered by renewal.domain.mail."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from renewal.adapters.aws import client
from renewal.domain.mail import Mail
from renewal.domain.mail_events import OK
from renewal.ports import MailReputation

logger = Logger(child=True)
metrics = Metrics()  # shares the handler's metric set; flushed by its log_metrics


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None) -> None:
        """`configuration_set` routes SES's bounce and complaint events back to us (template.yaml)."""
        self._client: Any = client("sesv2")  # made now (at init), on the shared session
        self._sender, self._configuration_set = sender, configuration_set

    def send(self, mail: Mail) -> None:
        configuration_set = self._configuration_set
        self._client.send_email(
            FromEmailAddress=self._sender,
            **({"ConfigurationSetName": configuration_set} if configuration_set else {}),
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


class DeliverableOnly:
    """Sends through `inner` only to addresses SES has not bounced or complained about; a skipped
    mail counts as handled (its caller marks it sent) and is counted in the MailsSkipped metric.
    Every mail the pipeline sends goes through one of these (renewal.wiring)."""

    def __init__(self, inner: Any, reputation: MailReputation) -> None:
        self._inner = inner
        self._reputation = reputation

    def send(self, mail: Mail) -> None:
        status = self._reputation.email_status(mail.to)
        if status != OK:
            logger.info("mail skipped: the address is undeliverable", extra={"status": status})
            metrics.add_metric(name="MailsSkipped", unit=MetricUnit.Count, value=1)
            return
        self._inner.send(mail)
        metrics.add_metric(name="MailsSent", unit=MetricUnit.Count, value=1)
