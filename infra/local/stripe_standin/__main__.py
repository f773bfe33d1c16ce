"""``python -m infra.local.stripe_standin --port 12111 --webhook-url URL --webhook-secret whsec_...``"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .server import STRIPE_MIN_EXPIRES_IN, StripeStandIn
from .webhooks import RETRY_SCHEDULE_SECONDS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infra.local.stripe_standin", description="Local Stripe stand-in.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    p.add_argument("--webhook-url", default="", help="where events are POSTed; empty: record only")
    p.add_argument("--webhook-secret", default="whsec_standin", help="whsec_... used to sign deliveries")
    p.add_argument(
        "--retry-scale",
        type=float,
        default=1.0,
        help="multiplies the retry delays (1 h, 2 h, 4 h ... 3 days); 0.001 turns hours into seconds",
    )
    p.add_argument("--max-attempts", type=int, default=len(RETRY_SCHEDULE_SECONDS))
    p.add_argument("--public-url", default=None, help="base of hosted page URLs (default: the listen URL)")
    p.add_argument(
        "--min-expires-in",
        type=int,
        default=STRIPE_MIN_EXPIRES_IN,
        help="smallest expires_at - now accepted at create, seconds (Stripe: 1800; tests may use 0)",
    )
    p.add_argument("--sweep-interval", type=float, default=1.0, help="seconds between expiry sweeps")
    p.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        print("warning: --webhook-secret does not start with whsec_", file=sys.stderr)
    standin = StripeStandIn(
        args.host,
        args.port,
        args.webhook_url or None,
        args.webhook_secret,
        retry_scale=args.retry_scale,
        max_attempts=args.max_attempts,
        public_url=args.public_url,
        min_expires_in=args.min_expires_in,
        sweep_interval=args.sweep_interval,
        log_requests=not args.quiet,
    )
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    standin.start()
    print(f"stripe-standin listening on {standin.url}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
