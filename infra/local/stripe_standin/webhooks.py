"""Webhook delivery like Stripe's: signed POSTs, retried with backoff, on background threads.

* Body: the event as JSON (fixed when the event is created).
* ``Stripe-Signature: t=<unix>,v1=<hex>``, made by the SDK's own
  ``stripe.WebhookSignature.generate_signature_header`` (HMAC-SHA256 of ``"<t>.<body>"``
  keyed by the whole ``whsec_...`` string), computed afresh at every attempt.
* A non-2xx answer or a connection error schedules the next attempt after
  ``RETRY_SCHEDULE_SECONDS[n] * retry_scale`` seconds, up to ``max_attempts``.
* Ordering: every event belongs to a stream (the Checkout Session or charge it is about).
  Due attempts of one stream run one after another in the order they became due (ties:
  creation order); different streams are delivered concurrently.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import stripe

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
CONTENT_TYPE = "application/json; charset=utf-8"

# Delay before attempt n+1 (index 0 = first attempt, sent at once). Stripe retries live-mode
# deliveries "for up to three days with an exponential back off"; this list sums to 72 h.
RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (
    0,
    3600,  # 1 h
    2 * 3600,  # 2 h
    4 * 3600,
    8 * 3600,
    16 * 3600,
    24 * 3600,
    17 * 3600,  # last attempt 72 h after the first
)


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    header: str = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return header


def _check_url(url: str | None) -> str | None:
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook URL must be http(s): {url!r}")
    return url


@dataclass
class Attempt:
    number: int
    at: float
    signature: str
    status: int | None = None
    error: str | None = None
    duration_ms: float = 0.0
    manual: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "at": self.at,
            "signature_timestamp": int(self.signature.split(",")[0][2:]) if self.signature else None,
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
            "manual": self.manual,
        }


@dataclass
class EventRecord:
    event: dict[str, Any]
    body: str
    stream: str
    seq: int
    state: str = "pending"  # pending | delivered | failed | not_sent (no webhook URL)
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None

    @property
    def last_status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.event["id"],
            "type": self.event["type"],
            "created": self.event["created"],
            "stream": self.stream,
            "state": self.state,
            "delivered": self.state == "delivered",
            "last_status": self.last_status,
            "next_attempt_at": self.next_attempt_at,
            "attempts": [a.to_json() for a in self.attempts],
            "event": self.event,
        }


@dataclass(order=True)
class _Task:
    due: float
    seq: int
    event_id: str = field(compare=False)
    manual: bool = field(compare=False, default=False)


class WebhookDispatcher:
    def __init__(
        self,
        url: str | None,
        secret: str,
        *,
        retry_scale: float = 1.0,
        max_attempts: int = len(RETRY_SCHEDULE_SECONDS),
        schedule: tuple[float, ...] = RETRY_SCHEDULE_SECONDS,
        timeout: float = 10.0,
        workers: int = 8,
    ) -> None:
        self.url = _check_url(url)
        self.secret = secret
        self.retry_scale = retry_scale
        self.max_attempts = max(1, max_attempts)
        self.schedule = schedule
        self.timeout = timeout
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._records: dict[str, EventRecord] = {}
        self._heap: list[_Task] = []
        self._streams: dict[str, deque[_Task]] = {}
        self._busy: set[str] = set()
        self._seq = itertools.count()
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stripe-standin-webhook")
        self._thread = threading.Thread(target=self._run, name="stripe-standin-dispatch", daemon=True)

    # ------------------------------------------------------------------ public
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def set_url(self, url: str | None) -> None:
        checked = _check_url(url)
        with self._lock:
            self.url = checked

    def enqueue(self, event: dict[str, Any], stream: str) -> EventRecord:
        """Record the event and, when a URL is configured, schedule its first attempt now."""
        body = json.dumps(event, indent=2)
        with self._lock:
            rec = EventRecord(event=event, body=body, stream=stream, seq=next(self._seq))
            self._records[event["id"]] = rec
            if self.url is None:
                rec.state = "not_sent"
            else:
                self._schedule(rec, time.time())
            return rec

    def resend(self, event_id: str) -> EventRecord | None:
        """Schedule one extra (manual) attempt now, whatever the state; None if unknown."""
        with self._lock:
            rec = self._records.get(event_id)
            if rec is None:
                return None
            rec.state = "pending"
            self._schedule(rec, time.time(), manual=True)
            return rec

    def records(self) -> list[EventRecord]:
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.seq)

    def record(self, event_id: str) -> EventRecord | None:
        with self._lock:
            return self._records.get(event_id)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self.records()]

    # ------------------------------------------------------------------ internals
    def _schedule(self, rec: EventRecord, due: float, manual: bool = False) -> None:
        rec.next_attempt_at = due
        heapq.heappush(self._heap, _Task(due, next(self._seq), rec.event["id"], manual))
        self._wake.notify_all()

    def _run(self) -> None:
        with self._lock:
            while not self._stopping:
                now = time.time()
                while self._heap and self._heap[0].due <= now:
                    task = heapq.heappop(self._heap)
                    rec = self._records[task.event_id]
                    q = self._streams.setdefault(rec.stream, deque())
                    q.append(task)
                    if rec.stream not in self._busy:
                        self._busy.add(rec.stream)
                        try:
                            self._pool.submit(self._drain, rec.stream)
                        except RuntimeError:  # pool shut down
                            return
                timeout = (self._heap[0].due - now) if self._heap else None
                self._wake.wait(timeout=timeout if timeout is None else max(0.0, min(timeout, 1.0)))

    def _drain(self, stream: str) -> None:
        while True:
            with self._lock:
                q = self._streams.get(stream)
                if self._stopping or not q:
                    self._busy.discard(stream)
                    return
                task = q.popleft()
                rec = self._records[task.event_id]
                url = self.url
            if url is None:
                with self._lock:
                    rec.state = "not_sent"
                    rec.next_attempt_at = None
                continue
            self._attempt(rec, url, task.manual)

    def _attempt(self, rec: EventRecord, url: str, manual: bool) -> None:
        header = sign(rec.body, self.secret)
        with self._lock:
            attempt = Attempt(number=len(rec.attempts) + 1, at=time.time(), signature=header, manual=manual)
            rec.attempts.append(attempt)
            rec.next_attempt_at = None
        req = urllib.request.Request(  # noqa: S310 - URL checked to be http(s) in set_url
            url,
            data=rec.body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": CONTENT_TYPE,
                "User-Agent": USER_AGENT,
                "Stripe-Signature": header,
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
            },
        )
        start = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                status = int(resp.status)
                resp.read(65536)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
            exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            attempt.status = status
            attempt.error = error
            attempt.duration_ms = (time.monotonic() - start) * 1000
            if status is not None and 200 <= status < 300:
                rec.state = "delivered"
                return
            automatic = [a for a in rec.attempts if not a.manual]
            if manual or len(automatic) >= self.max_attempts:
                queued = [t.due for t in self._heap if t.event_id == rec.event["id"]]
                rec.state = "pending" if queued else "failed"
                rec.next_attempt_at = min(queued) if queued else None
                return
            rec.state = "pending"
            idx = min(len(automatic), len(self.schedule) - 1)
            self._schedule(rec, time.time() + self.schedule[idx] * self.retry_scale)
