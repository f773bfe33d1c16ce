"""The carrier platform behind the eSIM, over HTTPS: HMAC-signed requests (Carrier-Signature,
Stripe's scheme), our order id as the idempotency key, a timeout and bounded retries. README
"Carrier contract" describes the API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import urllib3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from renewal.domain.signatures import request_payload, signature_header
from renewal.domain.timeutil import from_iso
from renewal.ports import (
    BundleProvision,
    CarrierAdded,
    CarrierRefused,
    CarrierUnavailable,
    NetworkBundle,
    NetworkLine,
    ReversalRequest,
)
from renewal.snapstart import after_restore

logger = Logger(child=True)
metrics = Metrics()  # shares the handler's metric set; flushed by its log_metrics
TRANSIENT = {408, 425, 429, 500, 502, 503, 504}


def _amounts(answer: Any, prefix: str) -> CarrierAdded:
    """`<prefix>_data_mb` and `<prefix>_validity_seconds` of an answer (README "Carrier contract")."""
    try:
        return CarrierAdded(int(answer[f"{prefix}_data_mb"]), int(answer[f"{prefix}_validity_seconds"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CarrierUnavailable(f"the carrier's answer lacks {prefix} amounts: {answer}") from error


def _refusal(status: int, answer: Any, default: str) -> CarrierRefused:
    error = answer.get("error") if isinstance(answer, dict) else None
    code = str((error or {}).get("code") or f"http_{status}")
    reason = str((error or {}).get("message") or default)
    return CarrierRefused(code, reason)


class HttpCarrier:
    def __init__(
        self,
        base_url: str,
        secret: Callable[[], str],
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.2,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._secret = secret
        self._timeout = urllib3.Timeout(connect=min(2.0, timeout_s), read=timeout_s)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._http = urllib3.PoolManager(retries=False, maxsize=4)
        after_restore(self._http.clear)  # SnapStart: init's sockets are dead after a restore

    def add_bundle(self, request: BundleProvision) -> CarrierAdded:
        body = {"region": request.region, "data_mb": request.data_mb, "validity_seconds": request.validity_s}
        status, answer = self._call(
            "POST", f"/v1/lines/{request.iccid}/bundles", body, idempotency_key=request.order_id
        )
        if status in (200, 201):
            return _amounts(answer, "added")
        raise _refusal(status, answer, "the carrier refused the bundle")

    def reverse(self, request: ReversalRequest) -> CarrierAdded:
        body = {
            "order_id": request.order_id,
            "region": request.region,
            "data_mb": request.data_mb,
            "validity_seconds": request.validity_s,
        }
        status, answer = self._call(
            "POST", f"/v1/lines/{request.iccid}/reversals", body, idempotency_key=request.reversal_id
        )
        if status in (200, 201):
            return _amounts(answer, "taken")
        raise _refusal(status, answer, "the carrier refused the reversal")

    def line(self, iccid: str) -> NetworkLine | None:
        status, answer = self._call("GET", f"/v1/lines/{iccid}", None)
        if status == 404:
            return None
        if status != 200:
            raise CarrierUnavailable(f"reading line {iccid}: HTTP {status}")
        return NetworkLine(
            iccid=iccid,
            bundles=tuple(
                NetworkBundle(str(b["region"]), int(b["data_mb"]), from_iso(str(b["expires_at"])))
                for b in answer.get("bundles", [])
            ),
            orders=frozenset(str(o) for o in answer.get("orders", [])),
        )

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        """A definitive answer (2xx, or 4xx other than 408/425/429), retrying transient failures a
        bounded number of times with backoff; CarrierUnavailable when they persist."""
        payload = json.dumps(body).encode() if body is not None else b""
        last = "no attempt"
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(self._backoff_s * 4 ** (attempt - 1))
            signed = request_payload(method, path, idempotency_key, payload)  # method, path, key and body
            headers = {
                "Content-Type": "application/json",
                "Carrier-Signature": signature_header(signed, self._secret(), int(time.time())),  # fresh per try
            }
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            started = time.perf_counter()
            try:
                response = self._http.request(
                    method, self._base + path, body=payload or None, headers=headers, timeout=self._timeout
                )
            except urllib3.exceptions.HTTPError as error:  # timeouts, refused connections, resets
                last = f"{type(error).__name__}: {error}"
                metrics.add_metric(name="CarrierFailures", unit=MetricUnit.Count, value=1)
                continue
            finally:
                metrics.add_metric(
                    name="CarrierLatency", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
                )
            if response.status in TRANSIENT:
                last = f"HTTP {response.status}"
                metrics.add_metric(name="CarrierFailures", unit=MetricUnit.Count, value=1)
                continue
            try:
                answer = json.loads(response.data or b"{}")
            except ValueError:
                answer = {}
            if response.status == 401:  # our signature or secret is wrong: retrying will not help
                raise CarrierUnavailable(f"the carrier refused our signature: {answer}")
            return response.status, answer
        logger.warning("carrier unavailable", extra={"path": path, "last": last})
        raise CarrierUnavailable(f"{method} {path}: {last} after {self._attempts} attempts")
