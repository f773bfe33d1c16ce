"""A local stand-in for the carrier platform behind the eSIM (README "Carrier contract").

    POST /v1/lines/{iccid}/bundles   add a bundle; Idempotency-Key (our order id) required;
                                     the same key answers the first answer again and adds nothing
    GET  /v1/lines/{iccid}           the line as the network sees it: bundles and applied orders
Both need `Carrier-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256, with the shared secret, of
"<t>.<METHOD>", path, Idempotency-Key (or empty) and the body, joined by newlines). The network
applies the same rule as DESIGN.md's activation: a region's bundle restarts when absent or
expired, gains the data, and its expiry moves to max(now, expiry) + validity.

Test and operator knobs, settable while it runs (not part of the carrier's API):
    GET/POST /_sim/knobs   {"latency_ms", "error_rate", "timeout_rate", "timeout_ms", "down",
                            "refuse": {iccid: reason code}} (POST merges; "refuse" entries with
                            a null reason are removed)
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions" / "shared"))

from renewal.domain.errors import Unauthorized
from renewal.domain.lines import is_valid_iccid
from renewal.domain.signatures import request_payload, signature_header, verify_signature
from renewal.domain.timeutil import to_iso

LINE_PATH = re.compile(r"^/v1/lines/(?P<iccid>[0-9]{19,20})(?P<bundles>/bundles)?$")


@dataclass
class Knobs:
    latency_ms: int = 0
    error_rate: float = 0.0  # share of requests answered 503
    timeout_rate: float = 0.0  # share of requests that hang for timeout_ms before answering
    timeout_ms: int = 10_000
    down: bool = False  # every request answered 503
    refuse: dict[str, str] = field(default_factory=dict)  # iccid -> reason code

    def view(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_ms": self.timeout_ms,
            "down": self.down,
            "refuse": dict(self.refuse),
        }


@dataclass
class NetworkBundle:
    data_mb: int
    expires_at: datetime


class CarrierSimulator:
    def __init__(
        self,
        host: str,
        port: int,
        secret: str,
        usage_url: str | None = None,
        usage_secret: str | None = None,
        clock: Any = lambda: datetime.now(UTC),
    ) -> None:
        self.host, self.port = host, port
        self.secret = secret
        self.usage_url, self.usage_secret = usage_url, usage_secret
        self.clock = clock
        self.knobs = Knobs()
        self.lines: dict[str, dict[str, NetworkBundle]] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # idempotency key -> the first answer
        self.line_orders: dict[str, list[str]] = {}
        self.add_requests: dict[str, int] = {}
        self.applied: dict[str, int] = {}
        self._lock = threading.Lock()  # the network serialises changes per line; one lock is enough here
        self._httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> CarrierSimulator:
        simulator = self

        class Handler(_Handler):
            sim = simulator

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
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
            if not is_valid_iccid(iccid):
                return 404, _error("unknown_line", f"no line {iccid} on this network")
            try:
                region, data_mb, days = str(body["region"]), int(body["data_mb"]), int(body["validity_days"])
            except (KeyError, TypeError, ValueError):
                return 400, _error("invalid_request", "region, data_mb and validity_days are required")
            if data_mb <= 0 or days <= 0:
                return 400, _error("invalid_request", "data_mb and validity_days must be positive")
            now = self.clock()
            bundles = self.lines.setdefault(iccid, {})
            current = bundles.get(region)
            if current is None or current.expires_at <= now:
                current = NetworkBundle(0, now)
            bundles[region] = NetworkBundle(
                current.data_mb + data_mb, max(now, current.expires_at) + timedelta(days=days)
            )
            answer = {
                "bundle_id": f"nb_{uuid.uuid4().hex[:16]}",
                "iccid": iccid,
                "region": region,
                "data_mb": bundles[region].data_mb,
                "expires_at": to_iso(bundles[region].expires_at),
                "applied_at": to_iso(now),
                "replayed": False,
            }
            self.orders[key] = answer
            self.line_orders.setdefault(iccid, []).append(key)
            self.applied[key] = self.applied.get(key, 0) + 1
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
                    bundle.data_mb = max(0, bundle.data_mb - data_mb)
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
            return {"add_requests": dict(self.add_requests), "applied": dict(self.applied)}


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
        if knobs.down or (knobs.error_rate and random.random() < knobs.error_rate):
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
                return 400, _error("idempotency_key_required", "send our order id as Idempotency-Key")
            try:
                document = json.loads(body or b"{}")
            except ValueError:
                return 400, _error("malformed_json", "the body is not JSON")
            return sim.add_bundle(iccid, key, document if isinstance(document, dict) else {})
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
