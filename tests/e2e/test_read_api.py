"""The read side as a client drives it: plans, sign-up, log-in, the account, linking a card."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests

from infra.local.client import call, log_in

ROOT = Path(__file__).resolve().parents[2]


def error_of(response: requests.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    return body["error"]


def test_plans_are_public_and_filterable(outputs: dict[str, str]) -> None:
    everything = call(outputs, "GET", "/plans")
    assert everything.status_code == 200
    plans = everything.json()["plans"]
    assert len(plans) >= 12
    assert {p["region"] for p in plans} >= {"EU", "ASIA", "NA", "GLOBAL"}

    eu = call(outputs, "GET", "/plans?region=eu").json()["plans"]
    assert eu and all(p["region"] == "EU" for p in eu)

    in_hong_kong = call(outputs, "GET", "/plans?country=HK").json()["plans"]
    assert in_hong_kong and all("HK" in p["countries"] for p in in_hong_kong)
    assert {p["region"] for p in in_hong_kong} == {"ASIA", "GLOBAL"}

    one = call(outputs, "GET", f"/plans/{eu[0]['plan_id']}")
    assert one.status_code == 200 and one.json() == eu[0]
    assert all(isinstance(v, int) for v in eu[0]["prices"].values())


def test_plan_errors_have_our_shape(outputs: dict[str, str]) -> None:
    missing = call(outputs, "GET", "/plans/no-such-plan")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "plan_not_found"

    bad_country = call(outputs, "GET", "/plans?country=France")
    assert bad_country.status_code == 422
    assert error_of(bad_country)["code"] == "validation_error"


def test_openapi_document_is_served_and_is_the_committed_copy(outputs: dict[str, str]) -> None:
    served = call(outputs, "GET", "/openapi.json")
    assert served.status_code == 200
    committed = json.loads((ROOT / "functions/shared/renewal/openapi.json").read_text())
    assert served.json() == committed
    assert {"/plans", "/plans/{plan_id}", "/account", "/account/line"} <= set(committed["paths"])


def test_account_needs_a_token(outputs: dict[str, str]) -> None:
    assert call(outputs, "GET", "/account").status_code == 401
    assert call(outputs, "POST", "/account/line", body={"iccid": "1", "pin": "1"}).status_code == 401


def test_a_new_customer_signs_up_logs_in_and_gets_no_line_until_paying(
    outputs: dict[str, str], new_customer: dict
) -> None:
    first = call(outputs, "GET", "/account", new_customer["token"])
    assert first.status_code == 200, first.text
    account = first.json()
    assert account["email"] == new_customer["email"]
    assert account["status"] == "none"
    assert account["bundles"] == [] and account["expires_at"] is None and account["remaining_data_mb"] == 0
    assert account["iccid"] is None  # the eSIM comes with the first plan (its payment takes a pool line)
    again = call(outputs, "GET", "/account", new_customer["token"]).json()
    assert again == account


def test_concurrent_first_calls_make_one_account(outputs: dict[str, str], new_customer: dict) -> None:
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda: answers.append(call(outputs, "GET", "/account", new_customer["token"])))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 6
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1


def test_demo_customer_has_an_active_bundle(outputs: dict[str, str]) -> None:
    token = log_in(outputs, outputs["DemoUserEmail"], outputs["DemoUserPassword"])
    account = call(outputs, "GET", "/account", token).json()
    assert account["status"] == "active"
    assert account["remaining_data_mb"] > 0
    assert account["expires_at"].endswith("Z")
    assert [b["region"] for b in account["bundles"]] == ["EU"]


@pytest.fixture
def test_card(is_local: bool, request: pytest.FixtureRequest) -> dict[str, str]:
    """A retail test card nobody has linked yet (each test takes its own)."""
    if not is_local:
        pytest.skip("retail test cards are seeded only in the local stack")
    cards = json.loads((ROOT / "infra/catalog/test_cards.json").read_text())["cards"]
    index = _next_card_index()
    return dict(cards[index])


_card_counter = iter(range(10_000))


def _next_card_index() -> int:
    return next(_card_counter)


def test_link_a_card_already_held(outputs: dict[str, str], new_customer: dict, test_card: dict) -> None:
    token = new_customer["token"]
    pool_line = call(outputs, "GET", "/account", token).json()["iccid"]
    linked = call(outputs, "POST", "/account/line", token, {"iccid": test_card["iccid"], "pin": test_card["pin"]})
    assert linked.status_code == 200, linked.text
    assert linked.json()["iccid"] == test_card["iccid"] != pool_line
    assert call(outputs, "GET", "/account", token).json()["iccid"] == test_card["iccid"]


def test_link_errors(outputs: dict[str, str], new_customer: dict, test_card: dict) -> None:
    token = new_customer["token"]
    wrong = call(outputs, "POST", "/account/line", token, {"iccid": test_card["iccid"], "pin": "99999"})
    assert wrong.status_code == 403 and error_of(wrong)["code"] == "wrong_pin"
    # A well-formed unknown ICCID is answered exactly like a wrong PIN; a malformed one is 422.
    unknown = call(outputs, "POST", "/account/line", token, {"iccid": "8985201999999999992", "pin": "12345678"})
    assert unknown.status_code == 403 and error_of(unknown)["code"] == "wrong_pin"
    malformed_iccid = call(outputs, "POST", "/account/line", token, {"iccid": "12345", "pin": "12345678"})
    assert malformed_iccid.status_code == 422 and error_of(malformed_iccid)["code"] == "invalid_iccid"
    missing_pin = call(outputs, "POST", "/account/line", token, {"iccid": test_card["iccid"]})
    assert missing_pin.status_code == 422 and error_of(missing_pin)["code"] == "validation_error"
    malformed = requests.post(
        outputs["ApiUrl"] + "/account/line",
        data="{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert malformed.status_code == 400 and error_of(malformed)["code"] == "malformed_json"


def test_wrong_pins_are_rate_limited(outputs: dict[str, str], new_customer: dict, test_card: dict) -> None:
    token = new_customer["token"]
    statuses = [
        call(
            outputs,
            "POST",
            "/account/line",
            token,
            {"iccid": test_card["iccid"], "pin": "00000000" if test_card["pin"] != "00000000" else "11111111"},
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [403] * 5
    locked = call(outputs, "POST", "/account/line", token, {"iccid": test_card["iccid"], "pin": test_card["pin"]})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert error_of(locked)["code"] == "too_many_attempts"


def test_preferences_round_trip_and_refuse_bad_values(outputs: dict[str, str], new_customer: dict) -> None:
    token = new_customer["token"]
    assert call(outputs, "GET", "/account/preferences", token).json() == {
        "locale": "en",
        "time_zone": "UTC",
        "reminders": {"expiry": True, "low_data": True},
    }
    patched = requests.patch(
        outputs["ApiUrl"] + "/account/preferences",
        json={"locale": "zh-CN", "reminders": {"low_data": False}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["reminders"] == {"expiry": True, "low_data": False}
    bad = requests.patch(
        outputs["ApiUrl"] + "/account/preferences",
        json={"time_zone": "Nowhere/Land"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert bad.status_code == 422 and error_of(bad)["code"] == "invalid_time_zone"
    assert call(outputs, "GET", "/account", token).json()["locale"] == "zh-CN"
    assert call(outputs, "GET", "/account/preferences", token).json()["time_zone"] == "UTC"
