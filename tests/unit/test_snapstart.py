"""Init made safe for a SnapStart restore (renewal.snapstart): random is reseeded, every pool of
sockets init opened is emptied, and the runtime's hook is registered when it exists."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable

import pytest

from renewal import snapstart
from renewal.adapters import aws
from renewal.adapters.carrier import HttpCarrier
from renewal.adapters.stripe_payments import StripePayments


def test_a_restored_instance_does_not_repeat_the_snapshots_random_numbers() -> None:
    random.seed(2026)
    in_snapshot = [random.random() for _ in range(3)]
    random.seed(2026)  # every instance restored from one snapshot starts here
    snapstart.restored()
    assert [random.random() for _ in range(3)] != in_snapshot


def test_connection_pools_of_every_client_are_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    sqs = aws.client("sqs")  # boto3's, on the shared session
    pynamodb_like = aws.botocore_session().create_client("dynamodb", region_name="us-east-1")  # as PynamoDB makes it
    for made in (sqs, pynamodb_like):
        made._endpoint.http_session._manager.connection_from_url("https://sqs.us-east-1.amazonaws.com")
        assert made._endpoint.http_session._manager.pools
    carrier = HttpCarrier(base_url="https://carrier.invalid", secret=lambda: "s")
    carrier._http.connection_from_url("https://carrier.invalid")
    payments = StripePayments(secret=lambda: {"api_key": "sk_test_x", "webhook_secret": "whsec_x"})
    assert payments.client is payments.client
    before = payments.client

    snapstart.restored()

    for made in (sqs, pynamodb_like):
        assert not made._endpoint.http_session._manager.pools
    assert not carrier._http.pools
    assert payments.client is not before  # a new HTTP session


def test_ready_registers_the_hook_with_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    import renewal.startup

    renewal.startup.ready()
    assert registered == [snapstart.restored]


def test_without_the_runtime_hook_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert snapstart.register_with_runtime() is False
