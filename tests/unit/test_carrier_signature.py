"""Our requests to the carrier are signed over method, path, idempotency key and body (issue 14,
point 5): a signature captured from one request does not authorise another."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import urllib3

from infra.local.carrier_sim import CarrierSimulator
from renewal.adapters.carrier import HttpCarrier
from renewal.domain.signatures import request_payload, signature_header
from renewal.ports import BundleProvision

SECRET = "carrier-test-secret"
ICCID = "8985200000000000010"


@pytest.fixture
def simulator() -> Iterator[CarrierSimulator]:
    sim = CarrierSimulator("127.0.0.1", 0, SECRET).start()
    try:
        yield sim
    finally:
        sim.stop()


def _send(url: str, method: str, path: str, body: bytes, key: str | None, signature: str) -> int:
    headers = {"Content-Type": "application/json", "Carrier-Signature": signature}
    if key:
        headers["Idempotency-Key"] = key
    return urllib3.request(method, url + path, body=body or None, headers=headers, retries=False).status


def test_the_adapter_signs_method_path_key_and_body_and_the_simulator_accepts_it(simulator: CarrierSimulator) -> None:
    carrier = HttpCarrier(simulator.url, secret=lambda: SECRET, attempts=1)
    carrier.add_bundle(BundleProvision("order-1", ICCID, "EU", 1024, 7))
    line = carrier.line(ICCID)
    assert line is not None and "order-1" in line.orders


def test_a_signature_of_the_body_alone_is_refused(simulator: CarrierSimulator) -> None:
    body = json.dumps({"region": "EU", "data_mb": 1024, "validity_seconds": 604800}).encode()
    body_only = signature_header(body, SECRET, int(time.time()))  # the old scheme: "<t>.<body>"
    assert _send(simulator.url, "POST", f"/v1/lines/{ICCID}/bundles", body, "order-2", body_only) == 401


@pytest.mark.parametrize("changed", ["path", "key", "method", "body"])
def test_a_captured_signature_does_not_authorise_another_request(simulator: CarrierSimulator, changed: str) -> None:
    body = json.dumps({"region": "EU", "data_mb": 1024, "validity_seconds": 604800}).encode()
    path, key, method = f"/v1/lines/{ICCID}/bundles", "order-3", "POST"
    captured = signature_header(request_payload(method, path, key, body), SECRET, int(time.time()))
    assert _send(simulator.url, method, path, body, key, captured) in (200, 201)  # the genuine request
    replay = {
        "path": ("POST", "/v1/lines/8985200000000000028/bundles", key, body),
        "key": ("POST", path, "order-4", body),
        "method": ("GET", f"/v1/lines/{ICCID}", None, b""),
        "body": ("POST", path, key, body.replace(b"1024", b"9999")),
    }[changed]
    assert _send(simulator.url, replay[0], replay[1], replay[3], replay[2], captured) == 401
