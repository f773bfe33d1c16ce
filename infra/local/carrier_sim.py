"""A local stand-in for the carrier platform behind the eSIM (README "Carrier contract").

    POST /v1/lines/{iccid}/bundles   add data {"region", "data_mb", "validity_seconds"};
                                     Idempotency-Key (our order id) required; the same key answers
                                     the first answer again and adds nothing
    POST /v1/lines/{iccid}/reversals take back {"order_id", "region", "data_mb",
                                     "validity_seconds"} from the bundle that order fed;
                                     Idempotency-Key (the refund's id) required
    GET  /v1/lines/{iccid}           the line as the network sees it: bundles and applied orders
All need `Carrier-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256, with the shared secret, of
"<t>.<METHOD>", path, Idempotency-Key (or empty) and the body, joined by newlines). The network
applies the same rules as our books (docs/domain.md): a region's bundle restarts (a new
generation) when absent or expired, gains the data, and its expiry moves to max(now, expiry) +
validity; usage draws on the orders that fed a bundle oldest first; a reversal takes what it asks
(our books already held it to the order's unused data), that order's data first, never more than
the bundle holds, never moves the expiry before now, and takes nothing once the order's bundle
has expired or restarted.

Test and operator knobs, settable while it runs (not part of the carrier's API):
    GET/POST /_sim/knobs   {"latency_ms", "error_rate", "timeout_rate", "timeout_ms", "down",
                            "refuse": {iccid: reason code}, "fail_next": n} (POST merges;
                            "refuse" entries with a null reason are removed; the next n API
                            requests are answered 503)
    POST /_sim/forget      {"iccid", "region"}: the network loses a bundle (reconciliation tests)
    POST /_sim/usage       {"iccid", "country", "data_mb", "record_id"?}: draws on the network's
                           bundle and pushes a signed usage record to our POST /usage/records
    GET  /_sim/stats       {"add_requests": {order_id: n}, "applied": {order_id: n}}
    POST /_sim/reset       forget everything (knobs, lines, stats)

    python -m infra.local.carrier_sim --port 0 --secret s --usage-url URL --usage-secret s2
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions" / "shared"))

from infra.local.process import QuietHTTPServer
from renewal.domain.errors import Unauthorized
from renewal.domain.lines import is_valid_iccid
from renewal.domain.signatures import request_payload, signature_header, verify_signature
from renewal.domain.timeutil import to_iso

LINE_PATH = re.compile(r"^/v1/lines/(?P<iccid>[0-9]{19,20})(?P<bundles>/bundles|/reversals)?$")


@dataclass
class Knobs:
    latency_ms: int = 0
    error_rate: float = 0.0  # share of requests answered 503
    timeout_rate: float = 0.0  # share of requests that hang for timeout_ms before answering
    timeout_ms: int = 10_000
    down: bool = False  # every request answered 503
    refuse: dict[str, str] = field(default_factory=dict)  # iccid -> reason code
    fail_next: int = 0  # the next n API requests are answered 503

    def view(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_ms": self.timeout_ms,
            "down": self.down,
            "refuse": dict(self.refuse),
            "fail_next": self.fail_next,
        }


@dataclass
class NetworkBundle:
    data_mb: int
    expires_at: datetime
    generation: int = 0
    # Unused data per order that fed this generation, oldest first.
    contributions: dict[str, int] = field(default_factory=dict)

    def draw(self, data_mb: int) -> int:
        take = min(max(0, data_mb), self.data_mb)
        left = take - min(take, max(0, self.data_mb - sum(self.contributions.values())))
        for order_id, unused in self.contributions.items():
            drawn = min(left, unused)
            self.contributions[order_id] = unused - drawn
            left -= drawn
        self.data_mb -= take
        return take


class CarrierSimulator:
    def __init__(
        self,
        host: str,
        port: int,
        secret: str,
        usage_url: str | None = None,
        usage_secret: str | None = None,
        clock: Any = lambda: datetime.now(UTC),
        strict_iccids: bool = True,  # unit tests' fakes use made-up ICCIDs without a check digit
    ) -> None:
        self.host, self.port = host, port
        self.strict_iccids = strict_iccids
        self.secret = secret
        self.usage_url, self.usage_secret = usage_url, usage_secret
        self.clock = clock
        self.knobs = Knobs()
        self.lines: dict[str, dict[str, NetworkBundle]] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # idempotency key -> the first answer
        self.fed: dict[str, tuple[str, str, int]] = {}  # order id -> (iccid, region, generation)
        self.reversals: dict[str, dict[str, Any]] = {}  # reversal id -> the first answer
        self.line_orders: dict[str, list[str]] = {}
        self.add_requests: dict[str, int] = {}
        self.reversal_requests: dict[str, int] = {}
        self.applied: dict[str, int] = {}
        self._lock = threading.Lock()  # the network serialises changes per line; one lock is enough here
        self._httpd: QuietHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> CarrierSimulator:
        simulator = self

        class Handler(_Handler):
            sim = simulator

        self._httpd = QuietHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    # ------------------------------------------------------------------ the carrier's API
    def add_bundle(self, iccid: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.add_requests[key] = self.add_requests.get(key, 0) + 1
            if key in self.orders:
                return 200, {**self.orders[key], "replayed": True}
            reason = self.knobs.refuse.get(iccid)
            if reason:
                return 422, _error(reason, f"the network refuses line {iccid}: {reason}")
            if self.strict_iccids and not is_valid_iccid(iccid):
                return 404, _error("unknown_line", f"no line {iccid} on this network")
            try:
                region, data_mb, seconds = str(body["region"]), int(body["data_mb"]), int(body["validity_seconds"])
            except (KeyError, TypeError, ValueError):
                return 400, _error("invalid_request", "region, data_mb and validity_seconds are required")
            if data_mb < 0 or seconds < 0 or data_mb + seconds == 0:
                return 400, _error("invalid_request", "data_mb and validity_seconds must not be negative")
            now = self.clock()
            bundles = self.lines.setdefault(iccid, {})
            current = bundles.get(region)
            if current is None or current.expires_at <= now:
                generation = current.generation + 1 if current else 1
                current = NetworkBundle(0, now, generation)
            current.data_mb += data_mb
            current.expires_at = max(now, current.expires_at) + timedelta(seconds=seconds)
            current.contributions[key] = data_mb
            bundles[region] = current
            answer = {
                "bundle_id": f"nb_{uuid.uuid4().hex[:16]}",
                "iccid": iccid,
                "region": region,
                "data_mb": current.data_mb,
                "expires_at": to_iso(current.expires_at),
                "added_data_mb": data_mb,
                "added_validity_seconds": seconds,
                "applied_at": to_iso(now),
                "replayed": False,
            }
            self.orders[key] = answer
            self.fed[key] = (iccid, region, current.generation)
            self.line_orders.setdefault(iccid, []).append(key)
            self.applied[key] = self.applied.get(key, 0) + 1
            return 201, answer

    def reverse(self, iccid: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Takes back from the bundle the order fed, only while it is that generation and live."""
        with self._lock:
            if key in self.reversals:
                return 200, {**self.reversals[key], "replayed": True}
            try:
                order_id, data_mb, seconds = str(body["order_id"]), int(body["data_mb"]), int(body["validity_seconds"])
            except (KeyError, TypeError, ValueError):
                return 400, _error("invalid_request", "order_id, data_mb and validity_seconds are required")
            if data_mb < 0 or seconds < 0:
                return 400, _error("invalid_request", "data_mb and validity_seconds must not be negative")
            now = self.clock()
            taken_mb = taken_s = 0
            fed = self.fed.get(order_id)
            bundle = self.lines.get(iccid, {}).get(fed[1]) if fed and fed[0] == iccid else None
            if bundle is not None and fed is not None and bundle.generation == fed[2] and bundle.expires_at > now:
                # What we ask is what our books took (they hold the order's unused share); usage the
                # network drew from this order before the reversal arrived, we drew from the
                # others: taking the rest from them keeps both sides equal.
                taken_mb = min(data_mb, bundle.data_mb)
                left = taken_mb
                for other in [order_id, *(k for k in bundle.contributions if k != order_id)]:
                    drawn = min(left, bundle.contributions.get(other, 0))
                    if drawn:
                        bundle.contributions[other] -= drawn
                    left -= drawn
                bundle.data_mb -= taken_mb
                new_expiry = max(now, bundle.expires_at - timedelta(seconds=seconds))
                taken_s = int((bundle.expires_at - new_expiry).total_seconds())
                bundle.expires_at = new_expiry
            answer = {
                "reversal_id": key,
                "iccid": iccid,
                "order_id": order_id,
                "taken_data_mb": taken_mb,
                "taken_validity_seconds": taken_s,
                "applied_at": to_iso(now),
                "replayed": False,
            }
            self.reversals[key] = answer
            self.reversal_requests[key] = self.reversal_requests.get(key, 0) + 1
            return 201, answer

    def read_line(self, iccid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if iccid not in self.lines:
                return 404, _error("unknown_line", f"no bundles on {iccid}")
            return 200, self._line_view(iccid)

    def line_snapshot(self, iccid: str) -> dict[str, Any]:
        """What the simulator holds for a line, known or not (tests read it through /_sim)."""
        with self._lock:
            return self._line_view(iccid)

    def _line_view(self, iccid: str) -> dict[str, Any]:
        now = self.clock()
        return {
            "iccid": iccid,
            "bundles": [
                {"region": region, "data_mb": b.data_mb, "expires_at": to_iso(b.expires_at)}
                for region, b in sorted(self.lines.get(iccid, {}).items())
                if b.expires_at > now
            ],
            "orders": list(self.line_orders.get(iccid, [])),
        }

    # ------------------------------------------------------------------ knobs
    def take_failure(self) -> bool:
        """True (once each) while the `fail_next` knob counts down."""
        with self._lock:
            failing = self.knobs.fail_next > 0
            self.knobs.fail_next = max(0, self.knobs.fail_next - 1)
            return failing

    def set_knobs(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for name in ("latency_ms", "timeout_ms"):
                if name in changes:
                    setattr(self.knobs, name, int(changes[name]))
            for name in ("error_rate", "timeout_rate"):
                if name in changes:
                    setattr(self.knobs, name, min(1.0, max(0.0, float(changes[name]))))
            if "down" in changes:
                self.knobs.down = bool(changes["down"])
            if "fail_next" in changes:
                self.knobs.fail_next = max(0, int(changes["fail_next"]))
            for iccid, reason in (changes.get("refuse") or {}).items():
                if reason:
                    self.knobs.refuse[str(iccid)] = str(reason)
                else:
                    self.knobs.refuse.pop(str(iccid), None)
            return self.knobs.view()

    def forget(self, iccid: str, region: str) -> bool:
        with self._lock:
            return self.lines.get(iccid, {}).pop(region, None) is not None

    def reset(self) -> None:
        with self._lock:
            self.knobs = Knobs()
            self.lines.clear()
            self.orders.clear()
            self.fed.clear()
            self.reversals.clear()
            self.reversal_requests.clear()
            self.line_orders.clear()
            self.add_requests.clear()
            self.applied.clear()

    def push_usage(self, iccid: str, country: str, data_mb: int, record_id: str | None) -> tuple[int, Any]:
        """What the network reports after a customer used data: one signed record to our API."""
        if not (self.usage_url and self.usage_secret):
            return 409, _error("no_usage_endpoint", "started without --usage-url/--usage-secret")
        with self._lock:
            for bundle in self.lines.get(iccid, {}).values():
                if bundle.expires_at > self.clock():
                    bundle.draw(data_mb)
                    break
        record = {
            "record_id": record_id or f"sim-{uuid.uuid4().hex}",
            "iccid": iccid,
            "country": country,
            "data_mb": data_mb,
            "used_at": to_iso(self.clock()),
        }
        body = json.dumps({"records": [record]}).encode()
        request = Request(  # noqa: S310  (our own local API, http)
            self.usage_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Usage-Signature": signature_header(body, self.usage_secret, int(time.time())),
            },
        )
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310  (our own local API)
                return int(response.status), {"record": record, "answer": json.loads(response.read() or b"{}")}
        except Exception as error:
            status = getattr(error, "code", 502)
            return int(status), {"record": record, "error": str(error)}

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "add_requests": dict(self.add_requests),
                "applied": dict(self.applied),
                "reversal_requests": dict(self.reversal_requests),
                "reversals": {key: dict(answer) for key, answer in self.reversals.items()},
            }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    sim: CarrierSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        try:
            status, answer = self._route(method, path, body)
        except Exception as error:
            status, answer = 500, _error("internal", str(error))
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): as a real network would, we carry on

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        sim = self.sim
        if path.startswith("/_sim/"):
            return self._knob(method, path, body)
        match = LINE_PATH.match(path)
        if not match:
            return 404, _error("route_not_found", f"no route {method} {path}")
        knobs = sim.knobs
        if knobs.latency_ms:
            time.sleep(knobs.latency_ms / 1000)
        if knobs.timeout_rate and random.random() < knobs.timeout_rate:
            time.sleep(knobs.timeout_ms / 1000)
        if sim.take_failure() or knobs.down or (knobs.error_rate and random.random() < knobs.error_rate):
            return 503, _error("unavailable", "the carrier platform is unavailable")
        try:
            signed = request_payload(method, self.path, self.headers.get("Idempotency-Key"), body)
            verify_signature(
                signed, self.headers.get("Carrier-Signature"), sim.secret, sim.clock(), name="Carrier-Signature"
            )
        except Unauthorized as error:
            return 401, _error("bad_signature", error.message)
        iccid = match["iccid"]
        if method == "GET" and not match["bundles"]:
            return sim.read_line(iccid)
        if method == "POST" and match["bundles"]:
            key = self.headers.get("Idempotency-Key")
            if not key:
                return 400, _error("idempotency_key_required", "send our order or refund id as Idempotency-Key")
            try:
                document = json.loads(body or b"{}")
            except ValueError:
                return 400, _error("malformed_json", "the body is not JSON")
            document = document if isinstance(document, dict) else {}
            if match["bundles"] == "/reversals":
                return sim.reverse(iccid, key, document)
            return sim.add_bundle(iccid, key, document)
        return 405, _error("method_not_allowed", f"{method} {path}")

    def _knob(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        sim = self.sim
        document = json.loads(body or b"{}") if body else {}
        if path == "/_sim/knobs":
            return 200, sim.set_knobs(document) if method == "POST" else sim.knobs.view()
        if path == "/_sim/stats" and method == "GET":
            return 200, sim.stats()
        if path == "/_sim/forget" and method == "POST":
            return 200, {"forgotten": sim.forget(str(document["iccid"]), str(document["region"]))}
        if path == "/_sim/usage" and method == "POST":
            return sim.push_usage(
                str(document["iccid"]),
                str(document.get("country", "FR")),
                int(document["data_mb"]),
                document.get("record_id"),
            )
        if path == "/_sim/reset" and method == "POST":
            sim.reset()
            return 200, {"reset": True}
        if path.startswith("/_sim/lines/") and method == "GET":
            return 200, sim.line_snapshot(path.rsplit("/", 1)[-1])
        return 404, _error("route_not_found", f"no route {method} {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.carrier_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--usage-url")
    parser.add_argument("--usage-secret")
    args = parser.parse_args(argv)
    simulator = CarrierSimulator(args.host, args.port, args.secret, args.usage_url, args.usage_secret).start()
    print(f"carrier simulator on {simulator.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
