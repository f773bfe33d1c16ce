"""Every AWS client the adapters make comes from one botocore session per thread
(renewal.adapters.aws): a new session reads the service model from disk again, 70-95 ms of CPU
per client here, and PynamoDB, Powertools and boto3 would each make their own. Checked in a fresh
process, as a Lambda instance starts, through each adapter's own way of making its client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

COUNT_SESSIONS = """
import json, threading
import botocore.session

made = []
original = botocore.session.Session.__init__


def counting(self, *args, **kwargs):
    made.append(threading.get_ident())
    original(self, *args, **kwargs)


botocore.session.Session.__init__ = counting

from renewal.adapters import mail, queue
from renewal.adapters.dynamodb import AccountModel, LineModel, transaction_connection
from renewal.adapters.dynamodb_orders import OrderModel, PaymentEventModel
from renewal.adapters.secrets import secrets_provider
from renewal.http.once import persistence_store

for model in (LineModel, AccountModel, OrderModel, PaymentEventModel):
    model._get_connection().connection.client  # PynamoDB makes its client here
transaction_connection().client
persistence_store("idempotency")
secrets_provider()
queue.SqsActivationQueue("https://sqs.us-east-1.amazonaws.com/123456789012/activation")
queue.SqsReminderQueue("https://sqs.us-east-1.amazonaws.com/123456789012/mail")
mail.SesMailer("mail@example.com")
on_main_thread = len(made)

worker = threading.Thread(target=lambda: LineModel._get_connection().connection.session)
worker.start()
worker.join()
print(json.dumps({"main": on_main_thread, "total": len(made)}))
"""


def test_one_botocore_session_per_thread_behind_every_client() -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "functions" / "shared"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", COUNT_SESSIONS], env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    counted = json.loads(done.stdout.strip().splitlines()[-1])
    assert counted["main"] == 1, counted  # eight clients, one session
    assert counted["total"] == 2, counted  # another thread gets its own (sessions are not thread-safe)
