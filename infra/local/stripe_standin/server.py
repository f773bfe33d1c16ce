"""A local Stripe stand-in: Checkout Sessions, hosted payment page, refunds, signed webhooks.

Usage in-process::

    standin = StripeStandIn("127.0.0.1", 0, "http://127.0.0.1:9000/webhook", "whsec_test",
                            retry_scale=0.001, max_attempts=8)
    standin.start()
    stripe.api_base = standin.url          # or StripeClient(key, base_addresses={"api": standin.url})
    ...
    standin.stop()

Routes (Stripe's, under /v1; auth: any ``sk_test_...`` key, Bearer or Basic):
    POST /v1/checkout/sessions                 create (16.1.0 create-params schema)
    GET  /v1/checkout/sessions/{id}            retrieve (expand: payment_intent, line_items, ...)
    GET  /v1/checkout/sessions/{id}/line_items list line items
    POST /v1/checkout/sessions/{id}/expire     expire an open session (spec subset schema)
    POST /v1/refunds, GET /v1/refunds, GET /v1/refunds/{id}
    GET  /v1/charges/{id}, GET /v1/payment_intents/{id}
Hosted page (no auth): GET/POST /c/pay/{session id}
Test support (not Stripe's, no auth): /_standin/health, /_standin/events,
    /_standin/events/{id}, POST /_standin/events/{id}/resend, POST /_standin/sessions/{id}/lapse,
    POST /_standin/disputes?payment_intent=pi_...   a customer's bank disputes the payment
                                                   (charge.dispute.created)
    POST /_standin/disputes/{id}/close?status=won|lost   the dispute ends (charge.dispute.closed)
"""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from infra.local.process import QuietHTTPServer

from . import objects, spec
from .formcodec import ParamError, decode_form, param_name, parse_pairs, validate_params
from .page import OUTCOMES, checkout_page, message_page
from .webhooks import RETRY_SCHEDULE_SECONDS, EventRecord, WebhookDispatcher

MAX_EXPIRES_IN = 24 * 3600
STRIPE_MIN_EXPIRES_IN = 30 * 60
DELAYED_OUTCOMES = ("async_succeeded", "async_failed")

_MISSING_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
    "for details, or we can help at https://support.stripe.com/."
)


class StripeError(Exception):
    """An API error with Stripe's body shape. ``store``: keep it for idempotent replay."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        store: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.store = store
        err: dict[str, Any] = {"type": type_, "message": message}
        if code:
            err["code"] = code
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
        if param:
            err["param"] = param
        self.body: dict[str, Any] = {"error": err}


def _no_such(kind: str, ident: str, param: str) -> StripeError:
    return StripeError(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> Response:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return cls(status, (json.dumps(obj, indent=2) + "\n").encode("utf-8"), h)

    @classmethod
    def html(cls, status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
        h = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        h.update(headers or {})
        return cls(status, text.encode("utf-8"), h)


@dataclass
class RequestCtx:
    request_id: str
    idempotency_key: str | None


@dataclass
class SessionRec:
    obj: dict[str, Any]
    items: list[dict[str, Any]]
    payment_intent_data: dict[str, Any]


@dataclass
class IdemEntry:
    method: str
    path: str
    pairs: list[tuple[str, str]]
    response: Response


Handler = Callable[..., tuple[int, Any]]


class StripeStandIn:
    """The stand-in server. ``start()`` serves on a background thread; ``port=0`` picks a port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_standin",  # noqa: S107 - a local test secret
        *,
        retry_scale: float = 1.0,
        max_attempts: int = len(RETRY_SCHEDULE_SECONDS),
        public_url: str | None = None,
        min_expires_in: int = STRIPE_MIN_EXPIRES_IN,
        sweep_interval: float = 1.0,
        webhook_timeout: float = 10.0,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self.min_expires_in = min_expires_in
        self.sweep_interval = sweep_interval
        self.log_requests = log_requests
        self.webhooks = WebhookDispatcher(
            webhook_url,
            webhook_secret,
            retry_scale=retry_scale,
            max_attempts=max_attempts,
            timeout=webhook_timeout,
        )
        self._lock = threading.RLock()
        self._sessions: dict[str, SessionRec] = {}
        self._payment_intents: dict[str, dict[str, Any]] = {}
        self._charges: dict[str, dict[str, Any]] = {}
        self._charge_stream: dict[str, str] = {}
        self._disputes: dict[str, dict[str, Any]] = {}
        self._refunds: list[dict[str, Any]] = []
        self._idem: dict[tuple[str, str], IdemEntry] = {}
        self._httpd: QuietHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._routes: list[tuple[str, re.Pattern[str], Handler, str]] = [
            ("POST", re.compile(r"^/v1/checkout/sessions$"), self._create_session, "create_session"),
            ("GET", re.compile(r"^/v1/checkout/sessions$"), self._list_sessions, "list_sessions"),
            ("GET", re.compile(r"^/v1/checkout/sessions/(?P<sid>[^/]+)$"), self._retrieve_session, "retrieve"),
            (
                "GET",
                re.compile(r"^/v1/checkout/sessions/(?P<sid>[^/]+)/line_items$"),
                self._list_line_items,
                "list_line_items",
            ),
            (
                "POST",
                re.compile(r"^/v1/checkout/sessions/(?P<sid>[^/]+)/expire$"),
                self._expire_session,
                "expire_session",
            ),
            ("POST", re.compile(r"^/v1/refunds$"), self._create_refund, "create_refund"),
            ("GET", re.compile(r"^/v1/refunds$"), self._list_refunds, "list_refunds"),
            ("GET", re.compile(r"^/v1/refunds/(?P<rid>[^/]+)$"), self._retrieve_refund, "retrieve"),
            ("GET", re.compile(r"^/v1/charges/(?P<cid>[^/]+)$"), self._retrieve_charge, "retrieve"),
            ("GET", re.compile(r"^/v1/payment_intents/(?P<pid>[^/]+)$"), self._retrieve_pi, "retrieve"),
        ]

    # ================================================================== lifecycle
    @property
    def url(self) -> str:
        """Base URL (no /v1): use as ``stripe.api_base``."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def public_url(self) -> str:
        """Base of the hosted page URLs put in ``session.url``."""
        return self._public_url or self.url

    def start(self) -> StripeStandIn:
        standin = self

        class _Handler(_RequestHandler):
            app = standin

        self._httpd = QuietHTTPServer((self.host, self.port), _Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.webhooks.start()
        self._stop.clear()
        serve = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-standin-http", daemon=True
        )
        sweep = threading.Thread(target=self._sweeper, name="stripe-standin-sweep", daemon=True)
        self._threads = [serve, sweep]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.webhooks.stop()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> StripeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_webhook_url(self, url: str | None) -> None:
        self.webhooks.set_url(url)

    def events(self) -> list[dict[str, Any]]:
        """Every event sent so far with its delivery attempts (same as GET /_standin/events)."""
        return self.webhooks.snapshot()

    def _sweeper(self) -> None:
        while not self._stop.wait(self.sweep_interval):
            with self._lock:
                self._sweep_locked()

    def _sweep_locked(self) -> None:
        now = time.time()
        for rec in self._sessions.values():
            if rec.obj["status"] == "open" and rec.obj["expires_at"] <= now:
                self._expire_locked(rec, None)

    # ================================================================== dispatch
    def dispatch(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path
        try:
            if path.startswith("/_standin/") or path == "/_standin":
                return self._standin(method, path, parts.query)
            if path.startswith("/c/pay/"):
                return self._page(method, path[len("/c/pay/") :], body)
            if path.startswith("/v1/"):
                return self._api(method, path, parts.query, headers, body)
            return Response.json(404, _unrecognized(method, path))
        except Exception as exc:  # keep the server alive, answer like Stripe does
            print(f"stripe-standin: internal error on {method} {raw_path}: {exc!r}", file=sys.stderr)
            return Response.json(
                500, {"error": {"type": "api_error", "message": f"An unknown error occurred ({type(exc).__name__})."}}
            )

    # ------------------------------------------------------------------ API
    def _api(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Response:
        request_id = objects.new_id("req_", 14)
        base_headers = {"Request-Id": request_id, "Stripe-Version": spec.api_version()}

        api_key, auth_error = _authenticate(headers.get("Authorization"))
        if auth_error is not None:
            return Response.json(401, auth_error.body, base_headers)
        assert api_key is not None

        route = None
        match = None
        for m, rx, handler, schema_name in self._routes:
            mm = rx.match(path)
            if mm and m == method:
                route, match = (handler, schema_name), mm
                break
        if route is None or match is None:
            return Response.json(404, _unrecognized(method, path), base_headers)
        handler, schema_name = route

        try:
            text = body.decode("utf-8") if method == "POST" else query
        except UnicodeDecodeError:
            err = ParamError("Request body is not valid UTF-8.")
            return Response.json(400, err.to_error(), base_headers)
        ctype = headers.get("Content-Type", "")
        if method == "POST" and text and "json" in ctype.lower():
            err = ParamError("Invalid request: the v1 API takes application/x-www-form-urlencoded bodies, not JSON.")
            return Response.json(400, err.to_error(), base_headers)
        try:
            pairs = parse_pairs(text)
        except ParamError as perr:
            return Response.json(400, perr.to_error(), base_headers)

        idem_key = headers.get("Idempotency-Key") if method == "POST" else None
        canon = sorted(pairs)
        with self._lock:
            self._sweep_locked()
            if idem_key:
                prior = self._idem.get((api_key, idem_key))
                if prior is not None:
                    if prior.path != path or prior.method != method:
                        msg = (
                            "Keys for idempotent requests can only be used for the same endpoint they were first "
                            f"used for ('{prior.path}' vs '{path}'). Try using a key other than '{idem_key}' if you "
                            "meant to execute a different request."
                        )
                        e = StripeError(400, msg, type_="idempotency_error")
                        return Response.json(400, e.body, base_headers)
                    if prior.pairs != canon:
                        msg = (
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{idem_key}' if you meant to execute a different "
                            "request."
                        )
                        e = StripeError(400, msg, type_="idempotency_error")
                        return Response.json(400, e.body, base_headers)
                    replay = Response(prior.response.status, prior.response.body, dict(prior.response.headers))
                    replay.headers["Idempotent-Replayed"] = "true"
                    return replay

            store = True
            try:
                params = decode_form(pairs, spec.schema_for(schema_name))
                validate_params(params, spec.validator_for(schema_name))
                ctx = RequestCtx(request_id, idem_key)
                status, obj = handler(ctx, params, **match.groupdict())
                resp = Response.json(status, obj, base_headers)
            except ParamError as perr:
                resp = Response.json(400, perr.to_error(), base_headers)
                store = False  # Stripe saves no result when params fail validation
            except StripeError as serr:
                resp = Response.json(serr.status, serr.body, base_headers)
                store = serr.store
            if idem_key:
                resp.headers["Idempotency-Key"] = idem_key
                if store:
                    self._idem[(api_key, idem_key)] = IdemEntry(method, path, canon, resp)
            return resp

    # ------------------------------------------------------------------ sessions
    def _create_session(self, ctx: RequestCtx, params: dict[str, Any]) -> tuple[int, Any]:
        mode = params.get("mode", "payment")
        if mode != "payment":
            raise ParamError(f"The Stripe stand-in only supports mode=payment (got mode={mode}).", "mode")
        line_items: list[dict[str, Any]] = params.get("line_items") or []
        if not line_items:
            raise ParamError("Missing required param: line_items.", "line_items", "parameter_missing")
        created = objects.now()
        currencies: set[str] = set()
        for i, li in enumerate(line_items):
            base: list[str | int] = ["line_items", i]
            if "price" in li and "price_data" in li:
                raise ParamError(
                    f"You may only specify one of these parameters: {param_name([*base, 'price'])}, "
                    f"{param_name([*base, 'price_data'])}.",
                    param_name([*base, "price"]),
                    "parameters_exclusive",
                )
            if "price" in li:
                raise _no_such("price", str(li["price"]), param_name([*base, "price"]))
            if "price_data" not in li:
                raise ParamError(
                    f"Missing required param: {param_name([*base, 'price_data'])}.",
                    param_name([*base, "price_data"]),
                    "parameter_missing",
                )
            if "quantity" not in li:
                raise ParamError(
                    f"Quantity is required. Add `quantity` to `{param_name(base)}`",
                    param_name([*base, "quantity"]),
                    "parameter_missing",
                )
            if int(li["quantity"]) < 1:
                raise ParamError(
                    "This value must be greater than or equal to 1.",
                    param_name([*base, "quantity"]),
                    "parameter_invalid_integer",
                )
            pd: dict[str, Any] = li["price_data"]
            pbase: list[str | int] = [*base, "price_data"]
            if "unit_amount" in pd and "unit_amount_decimal" in pd:
                raise ParamError(
                    f"You may only specify one of these parameters: {param_name([*pbase, 'unit_amount'])}, "
                    f"{param_name([*pbase, 'unit_amount_decimal'])}.",
                    param_name([*pbase, "unit_amount"]),
                    "parameters_exclusive",
                )
            if "unit_amount" not in pd and "unit_amount_decimal" not in pd:
                raise ParamError(
                    f"Missing required param: {param_name([*pbase, 'unit_amount'])}.",
                    param_name([*pbase, "unit_amount"]),
                    "parameter_missing",
                )
            if int(pd.get("unit_amount", 0)) < 0:
                raise ParamError(
                    "This value must be greater than or equal to 0.",
                    param_name([*pbase, "unit_amount"]),
                    "parameter_invalid_integer",
                )
            if "product" not in pd and "product_data" not in pd:
                raise ParamError(
                    f"Missing required param: {param_name([*pbase, 'product_data'])}.",
                    param_name([*pbase, "product_data"]),
                    "parameter_missing",
                )
            if "recurring" in pd:
                raise ParamError(
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` "
                    "mode or use only one-time prices.",
                    param_name([*pbase, "recurring"]),
                )
            currencies.add(str(pd["currency"]).lower())
        if len(currencies) > 1:
            raise ParamError(
                "All line items must use the same currency (got " + ", ".join(sorted(currencies)) + ").",
                "line_items",
            )
        currency = currencies.pop()
        if "currency" in params and str(params["currency"]).lower() != currency:
            raise ParamError("`currency` must match the currency of the line items.", "currency")

        expires_at = int(params.get("expires_at", created + MAX_EXPIRES_IN))
        if expires_at > created + MAX_EXPIRES_IN:
            raise ParamError(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.", "expires_at"
            )
        if expires_at < created + self.min_expires_in:
            raise ParamError(
                f"The `expires_at` timestamp must be at least {self.min_expires_in // 60} minutes "
                f"({self.min_expires_in} seconds) from Checkout Session creation.",
                "expires_at",
            )

        # Payment methods in 16.1.0: `allowed_payment_method_types` filters the (dynamic) set,
        # `excluded_payment_method_types` removes from it. Without either the set is ["card"].
        allowed: list[str] = list(params.get("allowed_payment_method_types") or ["card"])
        excluded = set(params.get("excluded_payment_method_types") or [])
        pm_types = [t for t in dict.fromkeys(allowed) if t not in excluded]
        if not pm_types:
            raise ParamError(
                "No valid payment method types for this Checkout Session: every allowed type is excluded.",
                "excluded_payment_method_types",
            )

        items = [objects.build_line_item(li, created) for li in line_items]
        amount_total = sum(int(i["amount_total"]) for i in items)
        sid = objects.session_id()
        session = objects.build_session(
            params,
            sid=sid,
            created=created,
            expires_at=expires_at,
            url=f"{self.public_url}/c/pay/{sid}",
            currency=currency,
            amount_total=amount_total,
            payment_method_types=pm_types,
        )
        rec = SessionRec(obj=session, items=items, payment_intent_data=dict(params.get("payment_intent_data") or {}))
        self._sessions[sid] = rec
        return 200, self._render_session(rec, params.get("expand") or [])

    def _session(self, sid: str) -> SessionRec:
        rec = self._sessions.get(sid)
        if rec is None:
            raise _no_such("checkout.session", sid, "session")
        return rec

    def _retrieve_session(self, ctx: RequestCtx, params: dict[str, Any], sid: str) -> tuple[int, Any]:
        return 200, self._render_session(self._session(sid), params.get("expand") or [])

    def _list_sessions(self, ctx: RequestCtx, params: dict[str, Any]) -> tuple[int, Any]:
        # Newest first, as Stripe lists them.
        rows = sorted(list(self._sessions.values()), key=lambda r: (-int(r.obj["created"]), r.obj["id"]))
        if "status" in params:
            rows = [r for r in rows if r.obj.get("status") == params["status"]]
        if "payment_intent" in params:
            rows = [r for r in rows if r.obj.get("payment_intent") == params["payment_intent"]]
        created = params.get("created")
        ops: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
        }  # fmt: skip
        if isinstance(created, int):
            rows = [r for r in rows if int(r.obj["created"]) == created]
        elif isinstance(created, dict):
            for op, bound in created.items():
                rows = [r for r in rows if ops[op](int(r.obj["created"]), int(bound))]
        listing = _paginate([r.obj for r in rows], params, "/v1/checkout/sessions")
        listing["data"] = [self._render_session(self._sessions[o["id"]], []) for o in listing["data"]]
        return 200, listing

    def _list_line_items(self, ctx: RequestCtx, params: dict[str, Any], sid: str) -> tuple[int, Any]:
        rec = self._session(sid)
        return 200, _paginate(rec.items, params, f"/v1/checkout/sessions/{sid}/line_items")

    def _expire_session(self, ctx: RequestCtx, params: dict[str, Any], sid: str) -> tuple[int, Any]:
        rec = self._session(sid)
        if rec.obj["status"] != "open":
            raise StripeError(
                400,
                # Stripe's words, backticks included (no error code: the message is the only tell).
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
                f"status of `{rec.obj['status']}`.",
                param="session",
            )
        self._expire_locked(rec, ctx)
        return 200, self._render_session(rec, params.get("expand") or [])

    def _expire_locked(self, rec: SessionRec, ctx: RequestCtx | None) -> None:
        rec.obj["status"] = "expired"
        rec.obj["url"] = None
        self._emit("checkout.session.expired", rec.obj, rec.obj["id"], ctx)

    def _render_session(self, rec: SessionRec, expand: list[str]) -> dict[str, Any]:
        out = copy.deepcopy(rec.obj)
        for i, path in enumerate(expand):
            if path == "line_items":
                out["line_items"] = _paginate(rec.items, {}, f"/v1/checkout/sessions/{rec.obj['id']}/line_items")
            elif path in ("payment_intent", "payment_intent.latest_charge"):
                pid = rec.obj.get("payment_intent")
                if isinstance(pid, str):
                    pi = copy.deepcopy(self._payment_intents[pid])
                    if path.endswith("latest_charge") and pi.get("latest_charge"):
                        pi["latest_charge"] = copy.deepcopy(self._charges[pi["latest_charge"]])
                    out["payment_intent"] = pi
            elif path in ("customer", "invoice", "subscription", "setup_intent", "payment_link", "customer_account"):
                pass  # always null here: nothing to expand
            else:
                raise ParamError(f"This property cannot be expanded ({path}).", param_name(["expand", i]))
        return out

    # ------------------------------------------------------------------ hosted page
    def _page(self, method: str, sid: str, body: bytes) -> Response:
        with self._lock:
            self._sweep_locked()
            rec = self._sessions.get(sid)
            if rec is None:
                return Response.html(404, message_page("Not found", f"No such Checkout Session: {sid}"))
            status = rec.obj["status"]
            if method == "GET":
                if status == "open":
                    return Response.html(200, checkout_page(rec.obj, rec.items))
                return Response.html(200, message_page("Checkout", _closed_message(status)))
            if method != "POST":
                return Response.html(405, message_page("Method not allowed", method), {"Allow": "GET, POST"})
            form = dict(parse_pairs(body.decode("utf-8", errors="replace")))
            outcome = form.get("outcome", "")
            if outcome not in OUTCOMES:
                return Response.html(
                    400, message_page("Bad request", f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
                )
            if status != "open":
                return Response.html(400, message_page("Checkout", _closed_message(status)))
            if outcome == "declined":
                # Nothing changes, nothing is sent: the customer may try again on this page.
                return Response.html(402, checkout_page(rec.obj, rec.items, error="Your card was declined."))
            self._pay_locked(rec, outcome)  # events are queued here, before the answer goes out
            success_url = rec.obj.get("success_url")
            if success_url:
                location = str(success_url).replace("{CHECKOUT_SESSION_ID}", sid)
                page = message_page("Redirecting", f"Payment submitted. Continue to {location}")
                return Response.html(303, page, {"Location": location})
            return Response.html(200, message_page("Thanks", "Payment submitted."))

    def _pay_locked(self, rec: SessionRec, outcome: str) -> None:
        sess = rec.obj
        sid = str(sess["id"])
        t = objects.now()
        amount = int(sess["amount_total"] or 0)
        currency = str(sess["currency"])
        pid, cid, pm = objects.new_id("pi_"), objects.new_id("ch_"), objects.new_id("pm_")
        pid_data = rec.payment_intent_data
        email = sess.get("customer_email") or "jenny.rosen@example.com"
        metadata = dict(pid_data.get("metadata") or {})
        description = pid_data.get("description")
        pi = objects.build_payment_intent(
            pid=pid, amount=amount, currency=currency, created=t, metadata=metadata, description=description,
            receipt_email=pid_data.get("receipt_email"), payment_method=pm,
            payment_method_types=list(sess["payment_method_types"]),
        )  # fmt: skip
        ch = objects.build_charge(
            cid=cid, amount=amount, currency=currency, created=t, payment_intent=pid, payment_method=pm,
            email=email, metadata=metadata, description=description,
        )  # fmt: skip
        pi["latest_charge"] = cid
        self._payment_intents[pid] = pi
        self._charges[cid] = ch
        self._charge_stream[cid] = sid
        sess["status"] = "complete"
        sess["payment_intent"] = pid
        sess["customer_details"] = objects.customer_details(sess.get("customer_email"))
        sess["url"] = None

        if outcome == "succeeded":
            pi.update({"status": "succeeded", "amount_received": amount})
            sess["payment_status"] = "paid"
            self._emit("checkout.session.completed", sess, sid, None)
            return
        objects.mark_charge_pending(ch)
        pi["status"] = "processing"
        sess["payment_status"] = "unpaid"
        self._emit("checkout.session.completed", sess, sid, None)
        if outcome == "async_succeeded":
            objects.mark_charge_succeeded(ch)
            pi.update({"status": "succeeded", "amount_received": amount})
            sess["payment_status"] = "paid"
            self._emit("checkout.session.async_payment_succeeded", sess, sid, None)
        else:
            objects.mark_charge_failed(ch)
            pi.update({"status": "requires_payment_method", "latest_charge": cid})
            self._emit("checkout.session.async_payment_failed", sess, sid, None)

    # ------------------------------------------------------------------ refunds & co
    def _create_refund(self, ctx: RequestCtx, params: dict[str, Any]) -> tuple[int, Any]:
        cid = params.get("charge")
        pid = params.get("payment_intent")
        if not cid and not pid:
            raise ParamError(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if pid:
            pi = self._payment_intents.get(str(pid))
            if pi is None:
                raise _no_such("payment_intent", str(pid), "payment_intent")
            latest = pi.get("latest_charge")
            if not latest:
                raise StripeError(400, f"PaymentIntent {pid} does not have a charge to refund.", param="payment_intent")
            if cid and cid != latest:
                raise StripeError(400, f"Charge {cid} does not belong to PaymentIntent {pid}.", param="charge")
            cid = latest
        ch = self._charges.get(str(cid))
        if ch is None:
            raise _no_such("charge", str(cid), "charge")
        if ch["status"] != "succeeded":
            raise StripeError(
                400, f"Charge {ch['id']} has a status of {ch['status']} and cannot be refunded.", param="charge"
            )
        remaining = int(ch["amount_captured"]) - int(ch["amount_refunded"])
        if remaining <= 0:
            raise StripeError(400, f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded")
        amount = int(params.get("amount", remaining))
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({objects.format_amount(amount, ch['currency'])}) is greater than unrefunded amount "
                f"on charge ({objects.format_amount(remaining, ch['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        metadata = params.get("metadata") or {}
        refund = objects.build_refund(
            rid=objects.new_id("re_"), amount=amount, charge=ch, created=objects.now(),
            metadata=metadata if isinstance(metadata, dict) else {}, reason=params.get("reason"),
        )  # fmt: skip
        self._refunds.append(refund)
        ch["amount_refunded"] = int(ch["amount_refunded"]) + amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
        refunds = ch.setdefault("refunds", {"object": "list", "data": [], "has_more": False})
        refunds["data"].insert(0, copy.deepcopy(refund))
        self._emit("charge.refunded", ch, self._charge_stream.get(str(ch["id"]), str(ch["id"])), ctx)
        return 200, self._render_refund(refund, params.get("expand") or [])

    def _render_refund(self, refund: dict[str, Any], expand: list[str], prefix: str = "") -> dict[str, Any]:
        out = copy.deepcopy(refund)
        for i, path in enumerate(expand):
            p = path[len(prefix) :] if prefix and path.startswith(prefix) else path
            if p == "charge":
                out["charge"] = copy.deepcopy(self._charges[refund["charge"]])
            elif p == "payment_intent":
                if refund.get("payment_intent"):
                    out["payment_intent"] = copy.deepcopy(self._payment_intents[refund["payment_intent"]])
            elif p == "balance_transaction":
                pass
            else:
                raise ParamError(f"This property cannot be expanded ({path}).", param_name(["expand", i]))
        return out

    def _list_refunds(self, ctx: RequestCtx, params: dict[str, Any]) -> tuple[int, Any]:
        rows = list(reversed(self._refunds))  # newest first, like Stripe
        if "charge" in params:
            rows = [r for r in rows if r["charge"] == params["charge"]]
        if "payment_intent" in params:
            rows = [r for r in rows if r["payment_intent"] == params["payment_intent"]]
        created = params.get("created")
        if isinstance(created, int):
            rows = [r for r in rows if r["created"] == created]
        elif isinstance(created, dict):
            ops: dict[str, Callable[[int, int], bool]] = {
                "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
            }  # fmt: skip
            for op, bound in created.items():
                rows = [r for r in rows if ops[op](int(r["created"]), int(bound))]
        expand = [e for e in params.get("expand") or [] if e.startswith("data.")]
        listing = _paginate(rows, params, "/v1/refunds")
        listing["data"] = [self._render_refund(r, expand, prefix="data.") for r in listing["data"]]
        return 200, listing

    def _retrieve_refund(self, ctx: RequestCtx, params: dict[str, Any], rid: str) -> tuple[int, Any]:
        for r in self._refunds:
            if r["id"] == rid:
                return 200, self._render_refund(r, params.get("expand") or [])
        raise _no_such("refund", rid, "id")

    def _retrieve_charge(self, ctx: RequestCtx, params: dict[str, Any], cid: str) -> tuple[int, Any]:
        ch = self._charges.get(cid)
        if ch is None:
            raise _no_such("charge", cid, "id")
        out = copy.deepcopy(ch)
        for i, path in enumerate(params.get("expand") or []):
            if path == "payment_intent":
                out["payment_intent"] = copy.deepcopy(self._payment_intents[ch["payment_intent"]])
            elif path not in ("refunds", "balance_transaction"):
                raise ParamError(f"This property cannot be expanded ({path}).", param_name(["expand", i]))
        return 200, out

    def _retrieve_pi(self, ctx: RequestCtx, params: dict[str, Any], pid: str) -> tuple[int, Any]:
        pi = self._payment_intents.get(pid)
        if pi is None:
            raise _no_such("payment_intent", pid, "intent")
        out = copy.deepcopy(pi)
        for i, path in enumerate(params.get("expand") or []):
            if path == "latest_charge" and pi.get("latest_charge"):
                out["latest_charge"] = copy.deepcopy(self._charges[pi["latest_charge"]])
            elif path != "latest_charge":
                raise ParamError(f"This property cannot be expanded ({path}).", param_name(["expand", i]))
        return 200, out

    # ------------------------------------------------------------------ events
    def _emit(self, etype: str, obj: dict[str, Any], stream: str, ctx: RequestCtx | None) -> EventRecord:
        event = objects.build_event(
            etype=etype,
            obj=copy.deepcopy(obj),
            created=objects.now(),
            request_id=ctx.request_id if ctx else None,
            idempotency_key=ctx.idempotency_key if ctx else None,
            pending_webhooks=1 if self.webhooks.url else 0,
        )
        return self.webhooks.enqueue(event, stream)

    # ------------------------------------------------------------------ disputes (test support)
    def _open_dispute(self, pid: str) -> Response:
        """What Stripe does when a cardholder's bank opens a dispute: a Dispute object (from the
        official fixture) on the payment's charge, and charge.dispute.created."""
        with self._lock:
            pi = self._payment_intents.get(pid)
            ch = self._charges.get(str(pi.get("latest_charge"))) if pi else None
            if pi is None or ch is None:
                return Response.json(404, _no_such("payment_intent", pid, "payment_intent").body)
            dispute = spec.fixture("dispute")
            dispute.update(
                {
                    "id": objects.new_id("dp_"),
                    "amount": int(ch["amount_captured"]) - int(ch["amount_refunded"]),
                    "currency": ch["currency"],
                    "charge": ch["id"],
                    "payment_intent": pid,
                    "created": objects.now(),
                    "status": "needs_response",
                    "is_charge_refundable": False,
                    "metadata": {},
                }
            )
            self._disputes[dispute["id"]] = dispute
            ch["disputed"] = True
            self._emit("charge.dispute.created", dispute, self._charge_stream.get(str(ch["id"]), str(ch["id"])), None)
            return Response.json(200, copy.deepcopy(dispute))

    def _close_dispute(self, did: str, status: str) -> Response:
        if status not in ("won", "lost"):
            return Response.json(400, StripeError(400, "status must be won or lost", param="status").body)
        with self._lock:
            dispute = self._disputes.get(did)
            if dispute is None:
                return Response.json(404, _no_such("dispute", did, "id").body)
            dispute["status"] = status
            stream = self._charge_stream.get(str(dispute["charge"]), str(dispute["charge"]))
            self._emit("charge.dispute.closed", dispute, stream, None)
            return Response.json(200, copy.deepcopy(dispute))

    # ------------------------------------------------------------------ test support
    def _standin(self, method: str, path: str, query: str) -> Response:
        q = dict(parse_pairs(query))
        if method == "GET" and path == "/_standin/health":
            with self._lock:
                n_sessions = len(self._sessions)
            return Response.json(
                200,
                {
                    "status": "ok",
                    "api_version": spec.api_version(),
                    "url": self.url,
                    "public_url": self.public_url,
                    "webhook_url": self.webhooks.url,
                    "sessions": n_sessions,
                    "events": len(self.webhooks.records()),
                },
            )
        if method == "GET" and path == "/_standin/events":
            data = self.webhooks.snapshot()
            if "type" in q:
                data = [d for d in data if d["type"] == q["type"]]
            if "stream" in q:
                data = [d for d in data if d["stream"] == q["stream"]]
            return Response.json(200, {"object": "list", "data": data, "has_more": False, "url": "/_standin/events"})
        if method == "POST" and path == "/_standin/webhook":
            # Test support: point deliveries elsewhere, or pause them with {"url": null}.
            self.set_webhook_url(q.get("url") or None)
            return Response.json(200, {"webhook_url": self.webhooks.url})
        if method == "POST" and path == "/_standin/disputes":
            return self._open_dispute(q.get("payment_intent", ""))
        m = re.match(r"^/_standin/disputes/(?P<did>[^/]+)/close$", path)
        if method == "POST" and m:
            return self._close_dispute(m.group("did"), q.get("status", ""))
        m = re.match(r"^/_standin/sessions/(?P<sid>[^/]+)/lapse$", path)
        if m and method == "POST":
            # Test support: an open session's time runs out now, and the sweep expires it as Stripe
            # does by itself (its event carries no request), without waiting min_expires_in.
            with self._lock:
                lapsing = self._sessions.get(m.group("sid"))
                if lapsing is None:
                    return Response.json(404, _no_such("checkout.session", m.group("sid"), "session").body)
                session = lapsing.obj
                if session["status"] == "open":
                    session["expires_at"] = min(session["expires_at"], int(time.time()))
                body = {"id": session["id"], "status": session["status"], "expires_at": session["expires_at"]}
            return Response.json(200, body)
        m = re.match(r"^/_standin/events/(?P<eid>[^/]+)(?P<resend>/resend)?$", path)
        if m:
            eid = m.group("eid")
            if method == "GET" and not m.group("resend"):
                rec = self.webhooks.record(eid)
                if rec is None:
                    return Response.json(404, _no_such("event", eid, "id").body)
                return Response.json(200, rec.to_json())
            if method == "POST" and m.group("resend"):
                if self.webhooks.url is None:
                    return Response.json(
                        409, StripeError(409, "No webhook URL is configured; nothing to resend to.").body
                    )
                rec = self.webhooks.resend(eid)
                if rec is None:
                    return Response.json(404, _no_such("event", eid, "id").body)
                return Response.json(202, rec.to_json())
        return Response.json(
            404, {"error": {"type": "invalid_request_error", "message": f"Unknown stand-in route ({method}: {path})."}}
        )


def _unrecognized(method: str, path: str) -> dict[str, Any]:
    msg = (
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )
    return {"error": {"type": "invalid_request_error", "message": msg}}


def _closed_message(status: str) -> str:
    if status == "expired":
        return "This Checkout Session has expired."
    if status == "complete":
        return "This Checkout Session is already complete."
    return f"This Checkout Session is {status}."


def _paginate(rows: list[dict[str, Any]], params: Mapping[str, Any], url: str) -> dict[str, Any]:
    limit = int(params.get("limit", 10))
    if "starting_after" in params:
        ids = [r["id"] for r in rows]
        if params["starting_after"] in ids:
            rows = rows[ids.index(params["starting_after"]) + 1 :]
    elif "ending_before" in params:
        ids = [r["id"] for r in rows]
        if params["ending_before"] in ids:
            rows = rows[: ids.index(params["ending_before"])][-limit:]
    return {
        "object": "list",
        "data": [copy.deepcopy(r) for r in rows[:limit]],
        "has_more": len(rows) > limit,
        "url": url,
    }


def _mask(key: str) -> str:
    if len(key) <= 12:
        return key[:3] + "*" * max(0, len(key) - 3)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _authenticate(header: str | None) -> tuple[str | None, StripeError | None]:
    """Like stripe-mock: any ``sk_test_...`` key, Bearer or Basic (key as the user name)."""
    if not header or not header.strip():
        return None, StripeError(401, _MISSING_KEY)
    scheme, _, value = header.strip().partition(" ")
    key = ""
    if scheme.lower() == "bearer":
        key = value.strip()
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return None, StripeError(401, "Invalid Basic authorization header.")
    else:
        return None, StripeError(
            401, "Invalid authorization header. Use 'Authorization: Bearer sk_test_...' or Basic auth."
        )
    if not key:
        return None, StripeError(401, _MISSING_KEY)
    if not key.startswith("sk_test_") or len(key) == len("sk_test_"):
        return None, StripeError(401, f"Invalid API Key provided: {_mask(key)}")
    return key, None


class _RequestHandler(BaseHTTPRequestHandler):
    app: StripeStandIn
    server_version = "stripe-standin/1.0"
    sys_version = ""

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k: v for k, v in self.headers.items()}
        resp = self.app.dispatch(method, self.path, _CaseInsensitive(headers), body)
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.app.log_requests:
            super().log_message(format, *args)


class _CaseInsensitive(dict[str, str]):
    """Header lookup that ignores case (what http.server's message object does)."""

    def __init__(self, data: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in data.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)
