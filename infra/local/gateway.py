"""A local HTTP API: routes the template's HttpApi events to their functions with API Gateway
v2 (payload format 2.0) events, after the JWT check API Gateway would make."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.local.jwt_authorizer import (
    JwksCache,
    JwtConfig,
    Unauthorized,
    bearer_token,
    claims_as_api_gateway_passes_them,
    verify,
)
from infra.local.lambda_runtime import InvocationError
from infra.local.process import QuietHTTPServer
from infra.local.template import Throttle, Throttling

log = logging.getLogger("gateway")

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST... or ANY
    path: str  # template path, e.g. /plans/{plan_id} or /files/{proxy+}
    function: str
    jwt: JwtConfig | None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}$")

    def specificity(self) -> tuple[int, int, int]:
        # API Gateway prefers exact paths, then fewer/greedier variables last, then a method over ANY.
        greedy = 1 if "+}" in self.path else 0
        variables = self.path.count("{")
        return (greedy, variables, 1 if self.method == "ANY" else 0)


class TokenBucket:
    """API Gateway's throttling for one route: `burst` requests at once, refilled at `rate` a second."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = throttle.rate, float(throttle.burst), clock
        self._tokens, self._at = float(throttle.burst), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


Invoker = Callable[[str, dict[str, Any]], Any]
# Local-only controls under /_local/ (the scheduler's run-now): (method, path after /_local, body)
# -> (status, JSON document). Not part of the deployed API.
LocalControl = Callable[[str, str, bytes], tuple[int, Any]]


class LocalHttpApi:
    def __init__(
        self,
        routes: list[Route],
        invoke: Invoker,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        site_dir: Path | None = None,
        site_config: dict[str, str] | None = None,
        local_control: LocalControl | None = None,
        throttling: Throttling | None = None,
    ) -> None:
        self._routes = sorted(((r, r.pattern()) for r in routes), key=lambda rp: rp[0].specificity())
        self._invoke = invoke
        self._jwks = JwksCache()
        self._site_dir = site_dir
        # The website's public settings (/app/config.json), made from this stack's endpoints;
        # a deployed site gets the same file from the stack's outputs (README "Website").
        self._site_config = site_config
        self._local_control = local_control
        # One bucket per route, as the template's DefaultRouteSettings and RouteSettings say.
        self._buckets: dict[str, TokenBucket] = {}
        if throttling is not None:
            for route in routes:
                throttle = throttling.for_route(route.route_key)
                if throttle is not None:
                    self._buckets[route.route_key] = TokenBucket(throttle)
        self._server = QuietHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval makes stop() prompt (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="gateway", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        # HTTP APIs answer 404 both for an unknown path and for a known path with another method.
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "local-http-api"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("%s " + format, self.address_string(), *args)

            def _serve(self) -> None:
                api._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, CONNECT, made-up ones) is routed like the rest, so it
                # gets API Gateway's 404 JSON instead of http.server's 501 HTML page.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

        return Handler

    # ------------------------------------------------------------------ one request
    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        started = time.perf_counter()
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        method = request.command
        status, headers, payload = self._dispatch(method, split.path, split.query, request, body)
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.send_header("apigw-requestid", uuid.uuid4().hex[:16])
        request.end_headers()
        if method != "HEAD":
            request.wfile.write(payload)
        log.info("%s %s -> %s in %.1f ms", method, split.path, status, (time.perf_counter() - started) * 1000)

    def _dispatch(
        self, method: str, path: str, query: str, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._site_dir is not None and (path == "/app" or path.startswith("/app/")):
            return self._static(path)
        if self._local_control is not None and (path == "/_local" or path.startswith("/_local/")):
            try:
                status, document = self._local_control(method, path[len("/_local") :], body)
            except Exception as error:
                log.exception("local control %s %s failed", method, path)
                document = {"error": {"code": "internal_error", "message": repr(error)}}
                status = HTTPStatus.INTERNAL_SERVER_ERROR
            return _json(status, document)
        found = self.match(method, path)
        if found is None:
            return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        route, path_parameters = found
        bucket = self._buckets.get(route.route_key)
        if bucket is not None and not bucket.take():
            # API Gateway's own answer, before the authorizer and the function.
            return _json(HTTPStatus.TOO_MANY_REQUESTS, {"message": "Too Many Requests"})
        headers = _merged_headers(request)
        claims: dict[str, str] | None = None
        if route.jwt is not None:
            try:
                token = bearer_token(headers, route.jwt.identity_source)
                claims = claims_as_api_gateway_passes_them(verify(token, route.jwt, self._jwks))
            except Unauthorized as reason:
                log.info("401 on %s: %s", route.route_key, reason)
                # API Gateway's own answer: HTTP APIs do not let us reshape authorizer errors.
                status, response_headers, payload = _json(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
                response_headers.append(("www-authenticate", 'Bearer error="invalid_token"'))
                return status, response_headers, payload
        event = _event(route, method, path, query, headers, body, path_parameters, claims, request)
        try:
            result = self._invoke(route.function, event)
        except InvocationError as error:
            log.error("function %s failed: %s\n%s", route.function, error, error.trace)
            return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
        return _response(result)

    def _static(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self._site_dir is not None
        relative = path[len("/app") :].lstrip("/")
        if relative == "config.json" and self._site_config is not None:
            return (
                HTTPStatus.OK,
                [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                json.dumps(self._site_config).encode(),
            )
        target = (self._site_dir / relative).resolve()
        if self._site_dir.resolve() not in target.parents and target != self._site_dir.resolve():
            return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        if target.is_dir():
            if not path.endswith("/"):
                # As the deployed site does: relative links in a page need the directory's slash.
                return HTTPStatus.MOVED_PERMANENTLY, [("Location", path + "/"), ("Content-Type", "text/plain")], b""
            target = target / "index.html"
        if not target.is_file():
            return _json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
        from infra.site import CONTENT_TYPES  # the same types the deployed site is uploaded with

        content_type = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        return HTTPStatus.OK, [("Content-Type", content_type), ("Cache-Control", "no-cache")], target.read_bytes()


def _merged_headers(request: BaseHTTPRequestHandler) -> dict[str, str]:
    # Payload 2.0: lower-case names, repeated headers joined with commas (cookies apart).
    merged: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def _event(
    route: Route,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    path_parameters: dict[str, str],
    claims: dict[str, str] | None,
    request: BaseHTTPRequestHandler,
) -> dict[str, Any]:
    query_parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_parameters[name] = f"{query_parameters[name]},{value}" if name in query_parameters else value
    now = datetime.now(UTC)
    content_type = headers.get("content-type", "")
    is_text = not body or any(t in content_type for t in TEXT_TYPES) or "x-www-form-urlencoded" in content_type
    text_body: str | None = None
    if body and is_text:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    cookies = [c.strip() for h in request.headers.get_all("Cookie") or [] for c in h.split(";") if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text_body if is_text else base64.b64encode(body).decode()
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


def _json(status: int, document: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(document).encode()


def _response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Payload 2.0 response rules: a dict with statusCode is a full response; anything else is
    returned as a 200 JSON body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _json(HTTPStatus.OK, result)
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("Set-Cookie", c) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return int(result["statusCode"]), headers, payload
