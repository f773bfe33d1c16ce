"""PIN guesses are counted before they are judged, in one conditional write (issue 14, point 1):
40 concurrent guesses at one card, on DynamoDB Local, get exactly 5 judged; an unknown card the
same; the lock after 10 in a day holds until cleared. The sync window holds under a race too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from infra.admin import unlock_card
from tests.support import adapter_environment

ROOT = Path(__file__).resolve().parents[2]
GUESSES = 40

# Runs in its own process: the PynamoDB models take their table names from the environment at import.
RACE_SCRIPT = r"""
import json, sys, threading, uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from renewal.adapters.dynamodb import DynamoAccountStore, DynamoLineStore, LineModel
from renewal.adapters.dynamodb_pins import DynamoPinAttempts
from renewal.domain.errors import DomainError
from renewal.domain.lines import is_valid_iccid
from renewal.domain.pins import FAILURE_WINDOW, card_key, hash_pin
from renewal.usecases.accounts import AccountService, Identity

GUESSES = int(sys.argv[1])
attempts, now = DynamoPinAttempts(), datetime.now(UTC).replace(microsecond=0)
found = {}


def new_iccid() -> str:
    while True:
        candidate = "89852" + str(uuid.uuid4().int)[:14]
        if is_valid_iccid(candidate):
            return candidate


def all_at_once(work, count):
    start = threading.Barrier(count)

    def one(index):
        start.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


# 1. The adapter alone: 40 concurrent takes on one fresh key, then 40 more on a window that ran out.
key = card_key(new_iccid())
taken = all_at_once(lambda i: attempts.take(key, now, lockable=True), GUESSES)
found["taken"] = sum(1 for refusal in taken if refusal is None)
found["refusals"] = sorted({(r.locked, r.retry_after > 0) for r in taken if r is not None})
later = now + FAILURE_WINDOW + timedelta(seconds=1)
taken = all_at_once(lambda i: attempts.take(key, later, lockable=True), GUESSES)
found["taken_next_window"] = sum(1 for refusal in taken if refusal is None)
counter = attempts.counter(key)
found["stored"] = [counter.attempts, counter.day_attempts]

# 2. The use case on the real stores: 40 callers guess one card at once (known, then unknown).
service = AccountService(DynamoAccountStore(), DynamoLineStore(), attempts=attempts)
known = new_iccid()
LineModel(iccid=known, pin_hash=hash_pin("12345678"), bundles=[]).save()
for name, iccid in (("known", known), ("unknown", new_iccid())):
    def guess(index, iccid=iccid):
        try:
            service.link_line(Identity(f"sub-{uuid.uuid4().hex}", "x@example.com"), iccid, f"{index:08d}")
            return "linked"
        except DomainError as error:
            return f"{error.status} {error.code}"
    answers = all_at_once(guess, GUESSES)
    found[name] = {answer: answers.count(answer) for answer in sorted(set(answers))}

# 3. Ten wrong guesses in a day lock a card (known or not) until the item is cleared.
for name, iccid in (("known_lock", new_iccid()), ("unknown_lock", new_iccid())):
    if name == "known_lock":
        LineModel(iccid=iccid, pin_hash=hash_pin("12345678"), bundles=[]).save()
    answers = []
    for index in range(12):
        moment = now + (FAILURE_WINDOW + timedelta(seconds=1)) * (index // 5)
        service._clock = lambda moment=moment: moment
        try:
            service.link_line(Identity(f"sub-{uuid.uuid4().hex}", "x@example.com"), iccid, "00000000")
        except DomainError as error:
            answers.append(f"{error.status}")
    found[name] = answers
    found[name + "_kept"] = attempts.counter(card_key(iccid)).locked
    found[name + "_iccid"] = iccid
service._clock = lambda: now

# 4. The per-account sync window: 40 concurrent syncs, 20 counted.
from renewal.adapters.dynamodb_pins import DynamoWindowCounter

window, key = DynamoWindowCounter(), f"sync#sub-{uuid.uuid4().hex}"
synced = all_at_once(lambda i: window.take(key, now, 20, now + timedelta(hours=1)), GUESSES)
found["synced"] = sum(synced)
print(json.dumps(found))
"""


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("writes the local tables directly")


def test_forty_concurrent_guesses_get_five_judged_per_card(outputs: dict[str, str]) -> None:
    env = adapter_environment(outputs, "LinesTable", "AccountsTable", "LimitsTable")
    answer = subprocess.run(
        [sys.executable, "-c", RACE_SCRIPT, str(GUESSES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    assert found["taken"] == 5, found
    assert found["refusals"] == [[False, True]]  # the others: wait (429 with Retry-After), no lock yet
    assert found["taken_next_window"] == 5, found
    assert found["stored"] == [5, 10]
    five_judged = {"403 wrong_pin": 5, "429 too_many_attempts": GUESSES - 5}
    assert found["known"] == five_judged
    assert found["unknown"] == five_judged  # an unknown card looks exactly like a known one
    for name in ("known_lock", "unknown_lock"):
        # 5 judged, a wait, 5 judged in the next window, then locked (423) until cleared
        assert found[name] == ["403"] * 5 + ["403"] * 5 + ["423", "423"], found[name]
        assert found[name + "_kept"] is True
    assert found["synced"] == 20  # the sync limit is one conditional write too
    # The operator's unlock (python -m infra.admin unlock-card) clears it.
    dynamodb = boto3.client("dynamodb", endpoint_url=outputs["DynamoDbEndpointUrl"], region_name=outputs["Region"],
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    assert unlock_card(dynamodb, outputs["LimitsTableName"], found["known_lock_iccid"]) is True
    assert unlock_card(dynamodb, outputs["LimitsTableName"], found["known_lock_iccid"]) is False
