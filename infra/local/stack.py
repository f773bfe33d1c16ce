"""`make run`: the whole pipeline on 127.0.0.1, built from template.yaml.

Starts DynamoDB Local and a moto server, creates the template's resources in them, seeds the
catalog, a pool of test eSIM lines and a demo customer, serves the HTTP API through a local
gateway that checks JWTs as API Gateway does, fires the template's schedules (`make remind`
runs one now through the gateway's local-only `/_local/` routes), writes `.local/outputs.json`,
and stops the whole process tree on Ctrl-C or SIGTERM.

    python -m infra.local.stack [--gateway-port 3000] [--ports auto] [--state-dir .local]
Ports also come from GATEWAY_PORT, DYNAMODB_PORT, MOTO_PORT, STRIPE_PORT, CARRIER_PORT."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
STACK_NAME = "renewal-local"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "Demo-pass-2026"
DEMO_STAFF = (  # email, password, store, display name
    ("staff@example.com", "Staff-pass-2026", "HKG-T1", "Mei Chan"),
    ("staff.ifc@example.com", "Staff-pass-2026", "HKG-IFC", "Ka Ho Wong"),
)
STRIPE_TEST_KEY = "sk_test_local_renewal"
STRIPE_WEBHOOK_SECRET = "whsec_local_renewal_0123456789abcdef"
USAGE_HMAC_SECRET = "usage_local_renewal_0123456789abcdef"
CARRIER_HMAC_SECRET = "carrier_local_renewal_0123456789abcdef"
LINE_POOL_SIZE = 150

# Local runs want short waits: a failed activation is retried in seconds, not a minute.
# Overrides for parameters the template does not declare (yet) are skipped.
PARAMETER_OVERRIDES = {
    "ActivationVisibilityTimeoutSeconds": "5",
    "ActivationMaxReceives": "3",
    "LogRetentionDays": "1",
    "LogLevel": "INFO",
    "CheckoutSuccessUrl": "{gateway}/app/?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
    "CheckoutCancelUrl": "{gateway}/app/?checkout=cancelled",
    "RenewUrl": "{gateway}/app/?renew={{plan_id}}",
    "CarrierApiUrl": "{carrier}",
    "MailFrom": "renewals@example.com",
    "CreateMailIdentity": "true",
    "AlarmEmail": "alarms@example.com",
    # One minute, so a test can stage a stuck order and see reconciliation mend it.
    "StuckActivationMinutes": "1",
    "MailVisibilityTimeoutSeconds": "5",
    "MailMaxReceives": "3",
}
DEFAULT_PORTS = {"gateway": 3000, "dynamodb": 8000, "moto": 5001, "stripe": 12111, "carrier": 12112}

log = logging.getLogger("local-stack")


class StackError(Exception):
    """A problem the person running the stack can fix; printed without a traceback."""


@dataclass
class Ports:
    gateway: int
    dynamodb: int
    moto: int
    stripe: int
    carrier: int

    @classmethod
    def choose(cls, auto: bool, overrides: dict[str, int | None]) -> Ports:
        from infra.local.emulators import free_port, port_in_use

        chosen: dict[str, int] = {}
        for name, default in DEFAULT_PORTS.items():
            requested = overrides.get(name) or _env_port(name)
            if requested is None and auto:
                port = free_port()
            else:
                port = requested or default
                if port_in_use(port):
                    variable = f"{name.upper()}_PORT"
                    raise StackError(
                        f"port {port} (for {name}) is already in use on 127.0.0.1; "
                        f"stop what holds it or pick another with {variable}=<port> (or --ports auto)"
                    )
            chosen[name] = port
        return cls(**chosen)


def _env_port(name: str) -> int | None:
    value = os.environ.get(f"{name.upper()}_PORT")
    return int(value) if value else None


@dataclass
class LocalPipeline:
    state_dir: Path
    ports: Ports
    stack_name: str = STACK_NAME
    template_path: Path = TEMPLATE
    parameters: dict[str, str] = field(default_factory=dict)  # --parameter NAME=VALUE, over the local ones
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _stoppers: list[Any] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ start
    def start(self) -> dict[str, str]:
        from infra.local import emulators

        started = time.monotonic()
        logs = self.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "outputs.json").unlink(missing_ok=True)

        jar_dir = emulators.ensure_dynamodb_local()
        dynamodb_url = f"http://127.0.0.1:{self.ports.dynamodb}"
        aws_url = f"http://127.0.0.1:{self.ports.moto}"
        self._processes.append(emulators.start_dynamodb_local(self.ports.dynamodb, jar_dir, logs))
        self._processes.append(emulators.start_moto(self.ports.moto, logs))
        emulators.wait_for_dynamodb(dynamodb_url, self._processes[0], logs)
        emulators.wait_for_moto(aws_url, self._processes[1], logs)
        log.info("emulators ready in %.1f s", time.monotonic() - started)

        self._point_this_process_at(dynamodb_url, aws_url)
        stack = self._create_resources(dynamodb_url, aws_url)
        stripe_url = self._start_stripe()
        gateway_url = f"http://127.0.0.1:{self.ports.gateway}"
        carrier_url = self._start_carrier(f"{gateway_url}/usage/records")
        demo = self._seed(stack)
        self._start_gateway(stack, dynamodb_url, aws_url, stripe_url)

        outputs = dict(stack.outputs())
        outputs.update(
            {
                "ApiUrl": gateway_url,
                "Region": REGION,
                "AwsEndpointUrl": aws_url,
                "DynamoDbEndpointUrl": dynamodb_url,
                "StripeApiBase": stripe_url,
                "StripeSecretKey": STRIPE_TEST_KEY,
                "StripeWebhookSecret": STRIPE_WEBHOOK_SECRET,
                "WebhookUrl": f"{gateway_url}/webhooks/stripe",
                "UsageHmacSecret": USAGE_HMAC_SECRET,
                "CarrierUrl": carrier_url,
                "CarrierHmacSecret": CARRIER_HMAC_SECRET,
                "UsageUrl": f"{gateway_url}/usage/records",
                "SiteUrl": f"{gateway_url}/app/",
                "DemoUserEmail": demo.email,
                "DemoUserPassword": demo.password,
                "DemoUserIccid": demo.iccid,
                "DemoStaffEmail": DEMO_STAFF[0][0],
                "DemoStaffPassword": DEMO_STAFF[0][1],
                "DemoStaffStoreId": DEMO_STAFF[0][2],
                # A second store's staff, so tests can show stores do not see each other.
                "OtherStoreStaffEmail": DEMO_STAFF[1][0],
                "OtherStoreStaffPassword": DEMO_STAFF[1][1],
                "StackName": self.stack_name,
                # Local-only controls (run a schedule now); a deployed stack has no such thing.
                "LocalControlUrl": f"{gateway_url}/_local",
            }
        )
        self.outputs = outputs
        _write_atomically(self.state_dir / "outputs.json", json.dumps(outputs, indent=2, sort_keys=True) + "\n")
        log.info("local stack up in %.1f s", time.monotonic() - started)
        return outputs

    def _point_this_process_at(self, dynamodb_url: str, aws_url: str) -> None:
        # The seed step runs in this process through the same adapters the functions use.
        os.environ.update(_aws_environment(dynamodb_url, aws_url))

    def _create_resources(self, dynamodb_url: str, aws_url: str) -> Any:
        from infra.local.provision import create_resources
        from infra.local.template import LocalStack, load_template

        template = load_template(self.template_path)
        gateway = f"http://127.0.0.1:{self.ports.gateway}"
        carrier = f"http://127.0.0.1:{self.ports.carrier}"
        overrides = {
            name: value.format(gateway=gateway, carrier=carrier)
            for name, value in PARAMETER_OVERRIDES.items()
            if name in template.get("Parameters", {})
        } | self.parameters
        stack = LocalStack(template, self.stack_name, REGION, overrides)
        create_resources(stack, dynamodb_url, aws_url)
        self._create_operator_secrets(stack)
        return stack

    def _create_operator_secrets(self, stack: Any) -> None:
        """Secrets an operator creates before `sam deploy` (README "Deploying"); here, test values."""
        import boto3

        secret_name = stack.parameters.get("StripeSecretName")
        if secret_name:
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=secret_name,
                SecretString=json.dumps({"api_key": STRIPE_TEST_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET}),
            )
        carrier_secret_name = stack.parameters.get("CarrierSecretName")
        if carrier_secret_name:
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=carrier_secret_name, SecretString=json.dumps({"hmac_secret": CARRIER_HMAC_SECRET})
            )
        usage_secret_name = stack.parameters.get("UsageHmacSecretName")
        if usage_secret_name:
            boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=usage_secret_name, SecretString=json.dumps({"hmac_secret": USAGE_HMAC_SECRET})
            )

    def _start_carrier(self, usage_url: str) -> str:
        from infra.local.carrier_sim import CarrierSimulator

        simulator = CarrierSimulator(
            "127.0.0.1", self.ports.carrier, CARRIER_HMAC_SECRET, usage_url, USAGE_HMAC_SECRET
        ).start()
        self._stoppers.append(simulator.stop)
        return simulator.url

    def _start_stripe(self) -> str:
        from infra.local.stripe_standin.server import StripeStandIn

        standin = StripeStandIn(
            "127.0.0.1",
            self.ports.stripe,
            f"http://127.0.0.1:{self.ports.gateway}/webhooks/stripe",
            STRIPE_WEBHOOK_SECRET,
            retry_scale=0.001,
        )
        standin.start()
        self._stoppers.append(standin.stop)
        return str(standin.url)

    def _seed(self, stack: Any) -> Any:
        import boto3

        env = {f.logical_id: f.environment for f in stack.functions()}
        tables = next(iter(env.values()))
        for variable in ("PLANS_TABLE", "ACCOUNTS_TABLE", "LINES_TABLE", "ORDERS_TABLE", "STORES_TABLE", "STAFF_TABLE"):
            if variable in tables:
                os.environ[variable] = tables[variable]
        from infra import seed

        written, _ = seed.seed_catalog()
        pool = seed.seed_line_pool(LINE_POOL_SIZE)
        cards = seed.seed_test_cards()
        cognito = boto3.client("cognito-idp", region_name=REGION)
        demo = seed.seed_demo_customer(
            cognito, stack.outputs()["UserPoolId"], DEMO_EMAIL, DEMO_PASSWORD, datetime.now(UTC)
        )
        for store in seed.DEMO_STORES:
            seed.seed_store(store)
        for email, password, store_id, name in DEMO_STAFF:
            seed.seed_staff(cognito, stack.outputs()["UserPoolId"], email, password, store_id, name)
        log.info(
            "seeded %d plans, %d pool lines, %d retail test cards, demo customer, stores, staff",
            written,
            len(pool),
            cards,
        )
        return demo

    def _start_gateway(self, stack: Any, dynamodb_url: str, aws_url: str, stripe_url: str) -> None:
        from infra.local.gateway import LocalHttpApi, Route
        from infra.local.jwt_authorizer import JwtConfig
        from infra.local.lambda_runtime import FunctionConfig, FunctionPool
        from infra.local.scheduler import schedule_control

        base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(ROOT)),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            **_aws_environment(dynamodb_url, aws_url),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "STRIPE_API_BASE": stripe_url,
        }
        pools: dict[str, FunctionPool] = {}
        routes: list[Route] = []
        for spec in stack.functions():
            _check_runtime(spec.logical_id, spec.runtime)
            config = FunctionConfig(
                name=spec.name,
                handler=spec.handler,
                code_dir=Path(spec.code_dir),
                layer_dirs=[Path(p) for p in spec.layer_dirs],
                environment=dict(spec.environment),
                timeout_s=float(spec.timeout),
                memory_mb=int(spec.memory),
                log_path=self.state_dir / "logs" / f"{spec.logical_id}.log",
            )
            pools[spec.logical_id] = FunctionPool(config, base_env)
            for route in spec.http_routes:
                jwt = None
                if route.auth is not None:
                    pool_id = route.auth.issuer.rstrip("/").rsplit("/", 1)[-1]
                    jwt = JwtConfig(
                        issuer=route.auth.issuer,
                        audience=tuple(route.auth.audience),
                        jwks_url=f"{aws_url}/{pool_id}/.well-known/jwks.json",
                        identity_source=route.auth.identity_source,
                    )
                routes.append(Route(route.method.upper(), route.path, spec.logical_id, jwt))
        scheduler = self._scheduler(stack, pools)
        site = ROOT / "site"
        # The site's /app/config.json: this stack's API, app client and Cognito (moto answers CORS).
        from infra.site import public_config

        site_config = public_config(
            f"http://127.0.0.1:{self.ports.gateway}", REGION, stack.outputs()["UserPoolClientId"], aws_url
        )
        api = LocalHttpApi(
            routes,
            lambda function, event: pools[function].invoke(event),
            port=self.ports.gateway,
            site_dir=site if site.is_dir() else None,
            site_config=site_config,
            local_control=schedule_control(scheduler),
            throttling=stack.throttling(),
        )
        api.start()
        self._stoppers.append(api.stop)
        for pool in pools.values():
            self._stoppers.append(pool.stop)
        self.pools = pools
        self._start_pollers(stack, pools)
        scheduler.start()
        # Stoppers run in reverse: the scheduler stops before the function pools it invokes.
        self._stoppers.append(scheduler.stop)
        self.scheduler = scheduler

    def _scheduler(self, stack: Any, pools: dict[str, Any]) -> Any:
        from infra.local.scheduler import LocalScheduler

        schedules = [(spec.logical_id, schedule) for spec in stack.functions() for schedule in spec.schedules]
        try:
            return LocalScheduler(schedules, lambda function, event: pools[function].invoke(event), region=REGION)
        except ValueError as error:
            raise StackError(f"template.yaml: {error}") from None

    def _start_pollers(self, stack: Any, pools: dict[str, Any]) -> None:
        import boto3

        from infra.local.sqs_poller import SqsPoller, SqsSource

        sqs = boto3.client("sqs", region_name=REGION)
        for spec in stack.functions():
            for source in spec.sqs_sources:
                queue = stack.physical[source.queue_logical_id]
                poller = SqsPoller(
                    SqsSource(
                        function=spec.logical_id,
                        queue_url=queue.ref,
                        queue_arn=queue.attributes["Arn"],
                        batch_size=source.batch_size,
                        report_batch_item_failures=source.report_batch_item_failures,
                    ),
                    lambda function, event: pools[function].invoke(event),
                    sqs,
                    REGION,
                )
                poller.start()
                # Pollers stop before the function pools they feed.
                self._stoppers.append(poller.stop)

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        for stopper in reversed(self._stoppers):
            with contextlib.suppress(Exception):
                stopper()
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        (self.state_dir / "outputs.json").unlink(missing_ok=True)


def _aws_environment(dynamodb_url: str, aws_url: str) -> dict[str, str]:
    # botocore reads these, so the same code reaches moto and DynamoDB Local instead of AWS.
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
    }


def _check_runtime(function: str, runtime: str) -> None:
    """The local workers run on this interpreter, so it must be the template's runtime (same minor
    version): otherwise the tests would pass on a Python the functions never run on."""
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        raise StackError(
            f"{function} runs on {runtime} but the local stack runs on {here}: "
            "make the virtualenv with that Python (make clean && make bootstrap; infra/find_python.sh)"
        )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


@contextlib.contextmanager
def single_instance(state_dir: Path) -> Iterator[None]:
    """A second `make run` on the same checkout says so instead of failing on a busy port."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "stack.lock"
    handle = open(lock_path, "a+")  # noqa: SIM115  (held for the stack's lifetime)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StackError(
            f"the local stack is already running ({holder}); use it, or stop it with Ctrl-C in its terminal "
            f"(or `kill <pid>`) before starting another"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, outputs in {state_dir / 'outputs.json'}")
    handle.flush()
    try:
        yield
    finally:
        handle.close()


def _banner(outputs: dict[str, str], state_dir: Path, today: date | None = None) -> str:
    """What a person needs first (the site, the store console and their logins), then the rest."""
    api = outputs["ApiUrl"]
    site = outputs["SiteUrl"].rstrip("/") + "/"
    # A reminder run as of a moment the demo customer's plan is near its end: a week from today.
    remind_at = (today or datetime.now(UTC).date()) + timedelta(days=6)
    return f"""
The renewal pipeline is running locally (Ctrl-C stops everything).
  Website        {site}
                 log in as {outputs["DemoUserEmail"]} / {outputs["DemoUserPassword"]} (or sign up; any code confirms)
  Store console  {site}store/
                 log in as {outputs["DemoStaffEmail"]} / {outputs["DemoStaffPassword"]} ({outputs["DemoStaffStoreId"]})
  API            {api}
  outputs        {state_dir / "outputs.json"}
  logs           {state_dir / "logs"}/
Try:
  curl -s {api}/plans?region=EU | python3 -m json.tool | head -30
  curl -s -o /dev/null -w '%{{http_code}}\\n' {api}/account        # 401 without a token
  .venv/bin/python -m infra.local.client account \\
      --email {outputs["DemoUserEmail"]} --password {outputs["DemoUserPassword"]}
  .venv/bin/python -m infra.local.client signup --email you@example.com --password 'Pass-word-123'
  make remind NOW={remind_at.isoformat()}T09:00:00Z                              # the expiry reminders as of then
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--ports", choices=["default", "auto"], default="default", help="auto: free ports")
    for name in DEFAULT_PORTS:
        parser.add_argument(f"--{name}-port", type=int, default=None)
    parser.add_argument("--stack-name", default=STACK_NAME)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter for this run (e.g. PublicThrottleRate=1000); repeatable",
    )
    args = parser.parse_args(argv)
    parameters = dict(item.split("=", 1) for item in args.parameter)
    from infra.local.emulators import EmulatorError
    from infra.local.template import TemplateError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("gateway").setLevel(logging.WARNING)
    # botocore's INFO lines ("Found credentials in environment variables", "Found endpoint for
    # ...") say nothing a person running the stack can act on.
    logging.getLogger("botocore").setLevel(logging.WARNING)

    stop_requested = threading.Event()
    started = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop_requested.set()
        if not started.is_set():
            raise KeyboardInterrupt  # still starting: stop now, quietly, rather than after start-up

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    pipeline: LocalPipeline | None = None
    try:
        with single_instance(args.state_dir):
            ports = Ports.choose(args.ports == "auto", {n: getattr(args, f"{n}_port") for n in DEFAULT_PORTS})
            pipeline = LocalPipeline(args.state_dir, ports, args.stack_name, args.template, parameters)
            outputs = pipeline.start()
            started.set()
            print(_banner(outputs, args.state_dir), flush=True)
            while not stop_requested.wait(0.5):
                pass
            print("stopping the local stack...", flush=True)
    except KeyboardInterrupt:
        started.set()  # a second Ctrl-C while stopping only asks again
        print("stopping the local stack...", flush=True)
    except (StackError, EmulatorError, TemplateError) as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    finally:
        if pipeline is not None:
            pipeline.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
