"""`make remind`: run the expiry reminders once against the running local stack, as the daily
schedule would, and print the run's report. Reads only `.local/outputs.json`.

    python -m infra.local.remind [--now 2026-03-01T09:00:00Z] [--schedule NAME] [--outputs PATH]

`--now` (or NOW=...) is the run's scheduled time, so reminders are decided as of then; without
an offset it is UTC. Exit status: 0 with the report on stdout, 1 when the run failed, 2 when
the stack is not running."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

DEFAULT_OUTPUTS = Path(__file__).resolve().parents[2] / ".local" / "outputs.json"
REMINDER_FUNCTION = "ExpiryNotifyFunction"
# A run over many lines takes minutes (the function's timeout is 15); the HTTP call waits for it.
RUN_TIMEOUT_S = 960


class RemindError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def control_url(outputs_path: Path) -> str:
    not_running = f"the local stack is not running ({outputs_path} not found): start it with `make run` first"
    if not outputs_path.exists():
        raise RemindError(not_running, 2)
    outputs = json.loads(outputs_path.read_text())
    url = outputs.get("LocalControlUrl")
    if not url:
        raise RemindError(
            f"{outputs_path} has no LocalControlUrl: it is not from a local stack, or from one started "
            "before `make remind` existed (restart `make run`)",
            2,
        )
    return str(url)


def _call(method: str, url: str, body: dict[str, Any] | None = None, timeout: float = 10) -> requests.Response:
    try:
        return requests.request(method, url, json=body, timeout=(5, timeout))
    except requests.ConnectionError:
        raise RemindError(
            f"nothing answers at {url}: the local stack is not running (stale outputs file?); start `make run`",
            2,
        ) from None


def _error_text(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code}: {response.text[:500]}"


def reminder_schedule(base: str) -> str:
    """The one schedule that runs the reminder function."""
    response = _call("GET", f"{base}/schedules")
    if response.status_code != 200:
        raise RemindError(f"listing the schedules failed: {_error_text(response)}")
    schedules = response.json()["schedules"]
    names = [s["name"] for s in schedules if s["function"] == REMINDER_FUNCTION]
    if len(names) != 1:
        known = ", ".join(f"{s['name']} ({s['function']})" for s in schedules) or "none"
        raise RemindError(
            f"expected one schedule of {REMINDER_FUNCTION}, found {len(names)}; pass --schedule (known: {known})"
        )
    return str(names[0])


def remind(outputs_path: Path, now: str | None, schedule: str | None) -> dict[str, Any]:
    base = control_url(outputs_path)
    name = schedule or reminder_schedule(base)
    response = _call("POST", f"{base}/schedules/{quote(name, safe='')}/run", {"now": now} if now else {}, RUN_TIMEOUT_S)
    if response.status_code != 200:
        message = f"running {name} failed: {_error_text(response)}"
        if response.status_code == 502:
            message += f"\nthe function's log: {outputs_path.parent / 'logs'}/"
        raise RemindError(message)
    answer: dict[str, Any] = response.json()
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.remind", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--now", default=os.environ.get("NOW") or None, help="the run's scheduled time, ISO 8601 (default: now)"
    )
    parser.add_argument("--schedule", help=f"schedule name (default: the one that runs {REMINDER_FUNCTION})")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS)
    args = parser.parse_args(argv)
    try:
        answer = remind(args.outputs, args.now, args.schedule)
    except RemindError as error:
        print(f"make remind: {error}", file=sys.stderr)
        return error.exit_code
    # The header goes to stderr so stdout is the report alone, ready for jq or a file.
    print(
        f"ran {answer['schedule']} ({answer['function']}) as of {answer['scheduled_time']}",
        file=sys.stderr,
    )
    print(json.dumps(answer["result"], indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
