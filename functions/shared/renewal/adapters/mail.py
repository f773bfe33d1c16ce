"""Outgoing mail through SES v2; bodies are rendered by renewal.domain.mail."""

from __future__ import annotations

import os
from typing import Any

import boto3

from renewal.domain.mail import Mail


class SesMailer:
    def __init__(self) -> None:
        self._client: Any = None

    def send(self, mail: Mail) -> None:
        if self._client is None:
            self._client = boto3.client("sesv2")
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
