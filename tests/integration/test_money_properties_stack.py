"""The money invariants through the local stack (a bounded Hypothesis run): random purchases,
usage reported by the carrier simulator, partial and full refunds, a store sale and its void on one
line; once the queue has drained, our data equals the simulator's exactly and expiries agree
within 5 s. The thorough search runs over fakes (tests/unit/test_money_properties.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.client import call, log_in, new_credentials, sign_up
from renewal.domain.timeutil import from_iso
from tests.integration.test_refunds import buy, line_of, status_becomes, stripe_client
from tests.support import wait_for

ops = st.lists(
    st.one_of(
        st.tuples(st.just("buy")),
        st.tuples(st.just("use"), st.integers(0, 9000)),
        st.tuples(st.just("refund"), st.integers(0, 3), st.integers(1, 4)),  # a quarter .. all of what is left
        st.tuples(st.just("store_sale_and_void"), st.booleans()),
    ),
    min_size=2,
    max_size=5,
)


@pytest.fixture(autouse=True)
def local_only(is_local: bool) -> None:
    if not is_local:
        pytest.skip("drives the local carrier simulator and Stripe stand-in")


def ours_and_theirs(outputs: dict[str, str], token: str, carrier: str, iccid: str) -> tuple[Any, Any]:
    account = call(outputs, "GET", "/account", token).json()
    network = requests.get(f"{carrier}/_sim/lines/{iccid}", timeout=10).json()
    ours = {b["region"]: (b["remaining_data_mb"], from_iso(b["expires_at"])) for b in account["bundles"]}
    theirs = {b["region"]: (b["data_mb"], from_iso(b["expires_at"])) for b in network["bundles"]}
    return ours, theirs


def agree(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    return set(ours) == set(theirs) and all(
        ours[r][0] == theirs[r][0] and abs((ours[r][1] - theirs[r][1]).total_seconds()) <= 5 for r in ours
    )


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(steps=ops)
def test_after_the_queue_drains_our_books_equal_the_network(outputs: dict[str, str], steps: list[Any]) -> None:
    carrier = outputs["CarrierUrl"]
    email, password = new_credentials("prop")
    sign_up(outputs, email, password)
    token = log_in(outputs, email, password)
    staff = log_in(outputs, outputs["DemoStaffEmail"], outputs["DemoStaffPassword"])
    bought = [buy(outputs, token, "jp-weekly-7gb")]  # the line comes with the first plan
    iccid = line_of(outputs, token)
    for step in steps:
        if step[0] == "buy":
            bought.append(buy(outputs, token, "jp-weekly-7gb"))
        elif step[0] == "use":
            pushed = requests.post(
                f"{carrier}/_sim/usage", json={"iccid": iccid, "country": "JP", "data_mb": step[1]}, timeout=30
            )
            assert pushed.status_code == 202, pushed.text
        elif step[0] == "refund" and bought:
            chosen = bought[step[1] % len(bought)]
            left = (
                chosen["amount"]
                - call(outputs, "GET", f"/orders/{chosen['order_id']}", token).json()["refunded_amount"]
            )
            if left > 0:
                amount = max(1, left * step[2] // 4)
                stripe_client(outputs).v1.refunds.create(
                    params={"payment_intent": chosen["payment_intent"], "amount": amount}
                )
                expected = chosen["amount"] - left + amount
                order_id = chosen["order_id"]

                def refunded(order_id: str = order_id, total: int = expected) -> bool:
                    return bool(call(outputs, "GET", f"/orders/{order_id}", token).json()["refunded_amount"] == total)

                assert wait_for(refunded, 30)
        elif step[0] == "store_sale_and_void":
            price = int(call(outputs, "GET", "/plans/jp-daily-2gb").json()["prices"]["HKD"])
            sold = requests.post(
                f"{outputs['ApiUrl']}/store/renewals",
                json={"email": email, "plan_id": "jp-daily-2gb", "currency": "HKD", "cash_received": price},
                headers={"Authorization": f"Bearer {staff}", "Idempotency-Key": uuid.uuid4().hex},
                timeout=30,
            )
            assert sold.status_code == 201, sold.text
            status_becomes(outputs, token, sold.json()["order_id"], "activated")
            if step[1]:
                requests.post(
                    f"{carrier}/_sim/usage", json={"iccid": iccid, "country": "JP", "data_mb": 10}, timeout=30
                )
            voided = call(outputs, "POST", f"/store/renewals/{sold.json()['order_id']}/void", staff, {"reason": "test"})
            assert voided.status_code == 200, voided.text
    settled = wait_for(lambda: agree(*ours_and_theirs(outputs, token, carrier, iccid)), 30)
    assert settled, ours_and_theirs(outputs, token, carrier, iccid)
    account = call(outputs, "GET", "/account", token).json()
    assert account["remaining_data_mb"] >= 0
