"""BENCHMARKS.md and the printed table, from the results `run.py` gathered (pure formatting)."""

from __future__ import annotations

from typing import Any

from infra.bench.prices import PRICES


def _f(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _x(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    """One line per goal: what, measured, floor, ratio, goal, met."""
    rows: list[list[str]] = []
    cold = results.get("cold_start")
    if cold:
        functions = [r for r in cold["functions"] if r["function"] != "floor"]
        worst = max(functions, key=lambda r: r["ratio"] or 0)
        rows.append(
            [
                f"1. cold start, slowest function ({worst['function']})",
                _f(worst["median_ms"], 0, " ms"),
                _f(cold["floor_ms"], 0, " ms"),
                _x(worst["ratio"]),
                "<= 1.25x for every function",
                _f(all((r["ratio"] or 9) <= 1.25 for r in functions)),
            ]
        )
    latency = results.get("latency")
    if latency:
        by_route = {r["route"]: r for r in latency["routes"]}
        for name in ("POST /webhooks/stripe", "GET /account"):
            row = by_route.get(name)
            if row:
                rows.append(
                    [
                        f"2. {name} p99 (p50)",
                        f"{_f(row['p99'], 1, ' ms')} ({_f(row['p50'], 1)})",
                        _f(row.get("floor_p50"), 1, " ms (p50)"),
                        _x(row.get("ratio_p50")),
                        f"p99 < {row['goal_p99_ms']:.0f} ms",
                        _f(row.get("goal_met")),
                    ]
                )
    tp = results.get("throughput")
    if tp:
        rows.append(
            [
                "3. pipeline throughput",
                _f(tp["renewals_per_second"], 1, " renewals/s"),
                _f(tp["floor_renewals_per_second"], 1, " /s (emulator-bound)"),
                _x(tp["ratio_to_floor"]),
                ">= 100 /s",
                _f(tp["goal"]["met_rate"]),
            ]
        )
        rows.append(
            [
                "3. our Lambda CPU per renewal (in handlers: AWS SDK + the rest)",
                _f(tp["our_lambda_cpu_ms_per_renewal"], 1, " ms") + _handler_split(tp),
                _f(tp["emulator_cpu_ms_per_renewal"], 1, " ms in the emulators"),
                "–",
                "< 5 ms (where the emulators limit)",
                _f(tp["goal"]["met_cpu"]),
            ]
        )
        proof = tp["proof"]
        rows.append(
            [
                "3. none lost, none applied twice",
                f"{proof['activated']}/{proof['orders']} activated, {proof['applied_twice']} twice",
                f"{proof['orders']}",
                "–",
                "all once",
                _f(proof["ok"]),
            ]
        )
    cost = results.get("cost")
    if cost:
        per = cost["per_renewal"]
        floor = cost["floor"]
        rows.append(
            [
                "4. request units per renewal (read + write)",
                f"{_f(per['rru'], 1)} + {_f(per['wru'], 1)}",
                f"{_f(floor['rru'], 1)} + {_f(floor['wru'], 1)}",
                _x(cost["ratio_request_units"]),
                "<= 1.2x",
                _f((cost["ratio_request_units"] or 9) <= 1.2),
            ]
        )
        rows.append(
            [
                "4. dollars per million renewals (AWS)",
                _f(cost["dollars_per_million"]["total"], 2, " $"),
                _f(cost["floor_dynamodb_dollars_per_million"], 2, " $ (DynamoDB floor)"),
                "–",
                "–",
                "–",
            ]
        )
    reminders = results.get("reminders")
    if reminders:
        largest = max((r for r in reminders["runs"] if not r.get("extrapolated")), key=lambda r: r["accounts"])
        rows.append(
            [
                f"5. reminder run, {largest['accounts']:,} accounts, 1 % due: items read",
                _f(largest["run"]["items_read"]),
                f"{_f(largest['due_expected'])} due",
                _x(largest["read_ratio"]),
                "grows with the due, not the accounts",
                _f(reminders["grows_with_due"]),
            ]
        )
    package = results.get("package")
    if package:
        layer = package["layer"]
        rows.append(
            [
                "6. layer zipped",
                _f(layer["zipped_mb"], 1, " MB"),
                _f(layer["floor_zipped_mb"], 1, " MB"),
                _x(layer["ratio"]),
                f"< {layer['limit_unzipped_mb']} MB unzipped",
                _f(layer["unzipped_mb"] < layer["limit_unzipped_mb"]),
            ]
        )
    return rows


def print_table(results: dict[str, Any]) -> str:
    rows = summary_rows(results)
    header = ["measure", "figure", "floor", "ratio", "goal", "met"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out: list[str] = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {machine['date']} (UTC), commit `{machine['commit']}`"
        f"{' with uncommitted changes' if machine.get('dirty') else ''}. Machine: {machine['cores']} cores"
        f" ({machine['cpu']}), {machine['memory_gib']:.1f} GiB memory, Python {machine['python']}; load average"
        f" {machine['load_at_start']} at the start. The whole run took {_f(results.get('wall_seconds'), 0, ' s')}.",
        "",
        "Absolute times on a shared 2-core machine drift, so every figure stands beside a floor measured in the"
        " same run, and the ratio is figure / floor. Everything runs locally: DynamoDB Local and moto stand in"
        " for AWS, the local gateway and SQS poller for API Gateway and Lambda's event source"
        " (`infra/local/`). Raw figures: `BENCHMARKS.json`.",
        "",
        *(
            [
                f"Something outside the bench ended its local stack {results['stack_restarts']} time(s) during the"
                " run; the bench started another and the later stages ran on it.",
                "",
            ]
            if results.get("stack_restarts")
            else []
        ),
        "Time per stage: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in (results.get("stage_seconds") or {}).items())
        + " (plus installing what is missing, on a fresh clone).",
        "",
        "## Summary",
        "",
        *_table(["measure", "figure", "floor", "ratio", "goal", "met"], summary_rows(results)),
        "",
    ]
    gaps = results.get("gaps") or []
    if gaps:
        out += ["## Goals not met: the gap and what limits it", ""]
        out += [f"- {g}" for g in gaps]
        out.append("")
    out += _cold(results.get("cold_start"), results.get("first_requests") or {})
    out += _latency(results.get("latency"))
    out += _throughput(results.get("throughput"))
    out += _cost(results.get("cost"))
    out += _reminders(results.get("reminders"))
    out += _package(results.get("package"))
    failures = results.get("failures") or {}
    if failures:
        out += ["## Stages that failed", ""]
        out += [f"- {stage}: `{error}`" for stage, error in failures.items()]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _handler_split(tp: dict[str, Any]) -> str:
    split = tp.get("handler_cpu_ms_per_renewal")
    if not split:
        return ""
    return f" ({split['all']:.1f}: {split['aws_sdk']:.1f} + {split['outside_sdk']:.1f})"


def _cold(cold: dict[str, Any] | None, first: dict[str, dict[str, Any]]) -> list[str]:
    if not cold:
        return []
    deployed = any("deployed_median_ms" in r for r in cold["functions"])
    header = [
        "function",
        "median",
        "min",
        "import",
        "peak memory",
        "ratio",
        "floor + its libraries",
        "our code adds",
        "first request CPU (later)",
        "heaviest (own time of each package)",
    ]
    if deployed:
        header[6:6] = ["without bytecode", "ratio"]
    rows = []
    for r in cold["functions"]:
        heavy = ", ".join(f"{h['module']} {h['ms']:.0f}" for h in r.get("heaviest_imports", [])[:5])
        row = [
            r["function"],
            _f(r["median_ms"], 0, " ms"),
            _f(r["min_ms"], 0, " ms"),
            _f(r["init_ms"], 0, " ms"),
            _f(r["peak_mb"], 0, " MB"),
            _x(r["ratio"]),
            f"{_f(r.get('libraries_ms'), 0, ' ms')} ({_x(r.get('libraries_ratio'))})" if "libraries_ms" in r else "–",
            _f(r.get("own_code_ms"), 0, " ms") if "own_code_ms" in r else "–",
            _first_request(first.get(r["function"])),
            heavy or "–",
        ]
        if deployed:
            row[6:6] = [_f(r.get("deployed_median_ms"), 0, " ms"), _x(r.get("deployed_ratio"))]
        rows.append(row)
    text = [
        "## 1. Cold start",
        "",
        f"A fresh process per run importing the handler module (Lambda's init: its CodeUri and the layer on"
        f" `sys.path`, all code compiled as the layer's build ships it, the template's environment, AWS endpoints"
        f" pointed at a closed port), median of {cold['functions'][0]['runs']} runs after a warm-up; a ratio is the"
        " median, over the runs, of the function's run over the floor run just before it (the machine's speed"
        " drifts). Floor:"
        f' {cold["floor"]}, {_f(cold["floor_ms"], 0, " ms")}. "median" is spawn to the end of init (not to the'
        ' process\'s exit); "import" the handler import alone; "floor + its libraries" the floor\'s process also'
        " importing the third-party modules that function's handler loads, without any of our code, so \"our code"
        ' adds" is the rest; "first request CPU" the CPU of the first request each worker of the local stack'
        " served right after its init (median over the workers), beside the median of its later requests, from"
        " the bench's call log: what a cold invocation adds to init (the handlers build their use cases and AWS"
        ' clients at init, so it is near a warm request); "heaviest" from `python -X importtime` (ms of each'
        " package's own module bodies).",
        "",
        *_table(header, rows),
        "",
    ]
    if deployed:
        text += [
            '"without bytecode": the same with the layer\'s packages installed without `.pyc` files and our code'
            " without `__pycache__`, as SAM's own python3.11 build method would ship them to a read-only /opt (every"
            " cold start compiles them); functions/shared/Makefile builds the layer compiled instead.",
            "",
        ]
    return text


def _first_request(row: dict[str, Any] | None) -> str:
    if not row:
        return "–"  # not invoked through the local stack in this run
    later = row.get("later_cpu_ms")
    return f"{_f(row['first_cpu_ms'], 0, ' ms')} ({_f(later, 0, ' ms') if later is not None else '–'})"


def _latency(latency: dict[str, Any] | None) -> list[str]:
    if not latency:
        return []
    rows = []
    for r in latency["routes"]:
        rows.append(
            [
                r["route"],
                _f(r["n"]),
                _f(r["p50"]),
                _f(r["p95"]),
                _f(r["p99"]),
                _f(r.get("dynamodb_calls_per_request"), 1),
                _f(r.get("dynamodb_ms_per_request"), 1),
                _f((r.get("share_outside_dynamodb") or 0) * 100, 0, " %") if "share_outside_dynamodb" in r else "–",
                _f(r.get("handler_cpu_ms_mean"), 1),
                _f(r.get("floor_p50"), 1),
                _x(r.get("ratio_p50")),
                _f(r["errors"]),
            ]
        )
    budget = latency.get("budget_s_per_route")
    return [
        "## 2. Warm latency through the local gateway",
        "",
        f"One client, one request at a time on a new connection, after 5 unmeasured warm-up requests;"
        f" {latency['requests_per_route']:,} requests per route"
        + (
            f" (routes without a goal stop early after {budget:.0f} s, so slow routes have fewer: see n)"
            if budget
            else ""
        )
        + ". Milliseconds as the client sees them. DynamoDB calls and time per request, and the function's CPU,"
        " from the workers' call log; \"outside DynamoDB\" is the share of the client's time not spent in"
        " DynamoDB calls. Floor p50 = the gateway's own round trip (a path no route serves:"
        f" {_f(latency['gateway_only']['p50'], 1, ' ms')}) + the route's own time in DynamoDB: what it would take"
        " if everything else cost nothing (for reference, a raw GetItem from the bench process:"
        f" {_f(latency['raw_dynamodb_getitem']['p50'], 1, ' ms')} p50).",
        "",
        *_table(
            [
                "route",
                "n",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "DynamoDB calls",
                "in DynamoDB ms",
                "outside DynamoDB",
                "CPU ms",
                "floor p50 ms",
                "ratio p50",
                "errors",
            ],
            rows,
        ),
        "",
    ]


def _throughput(tp: dict[str, Any] | None) -> list[str]:
    if not tp:
        return []
    e2e = tp.get("end_to_end_ms") or {}
    cpu_rows = [[k, _f(v, 1)] for k, v in sorted(tp["cpu_ms_per_renewal"].items(), key=lambda kv: -kv[1])]
    proof = tp["proof"]
    fn_rows = [
        [
            name,
            _f(int(v["invocations"])),
            _f(v["mean_ms"], 1),
            _f(v["mean_cpu_ms"], 1),
            _f(v["aws_calls_per_invocation"], 1),
            _f(v["sdk_cpu_ms_per_invocation"], 1),
        ]
        for name, v in sorted(tp["by_function"].items())
    ]
    return [
        "## 3. Pipeline throughput",
        "",
        f"{tp['orders']:,} orders of {tp['customers']} customers, checked out through the API and paid on the"
        f" Stripe stand-in (its delivery off), then their signed `checkout.session.completed` events pushed by"
        f" {tp['senders']} client threads as fast as the gateway took them, plus {tp['duplicates_sent']} duplicate"
        " deliveries, with the SQS poller feeding `activate`.",
        "",
        *_table(
            ["figure", "value"],
            [
                [
                    "renewals per second (first event sent to last activation committed)",
                    _f(tp["renewals_per_second"], 1),
                ],
                ["events the gateway took per second", _f(tp["events_taken_per_second"], 1)],
                [
                    "end to end, event sent to active plan, p50 / p99 (mostly queueing: the push outruns activation)",
                    f"{_f(e2e.get('p50'), 0)} / {_f(e2e.get('p99'), 0)} ms",
                ],
                [
                    "floor: the machine's cores over the emulators' CPU per renewal",
                    _f(tp["floor_renewals_per_second"], 1),
                ],
                ["ratio to the floor", _x(tp["ratio_to_floor"])],
                [
                    "machine busy (all processes' CPU / cores x wall time)",
                    _f((tp["machine_busy_share"] or 0) * 100, 0, " %"),
                ],
                ["checking out the orders (setup, 8 threads)", _f(tp["checkout_seconds"], 0, " s")],
            ],
        ),
        "",
        "Proof (from the tables and the call log): "
        f"{proof['activated']} of {proof['orders']} orders activated ({proof['statuses']}), "
        f"{proof['activated_by_exactly_one_transaction']} by exactly one activation transaction, "
        f"{proof['applied_twice']} applied twice, {proof['lost']} lost; {proof['orders_marked_mail_sent']} marked"
        f" `mail_sent` ({proof['mails_sent_in_window']} SES sends by activate in the window);"
        f" {proof['lines_with_wrong_data']} of {proof['lines_checked']} lines hold other than the sum of"
        f" their orders' data; {proof['events_answered_2xx']} of {proof['events_sent']} deliveries answered 2xx,"
        f" {proof['answered_as_duplicate']} of the {proof['duplicates_sent']} duplicates recognised as such.",
        "",
        "CPU per renewal, by process (ms; /proc utime + stime over the run):",
        "",
        *_table(["process", "CPU ms per renewal"], cpu_rows),
        "",
        "Per function during the run (from the call log): invocations, mean duration, mean CPU, AWS calls per"
        " invocation and the CPU spent inside the AWS SDK per invocation:",
        "",
        *_table(["function", "invocations", "mean ms", "mean CPU ms", "AWS calls", "SDK CPU ms"], fn_rows),
        "",
    ]


def _cost(cost: dict[str, Any] | None) -> list[str]:
    if not cost:
        return []
    per = cost["per_renewal"]
    ops = [[k, _f(v["calls"], 1), _f(v["rru"], 1), _f(v["wru"], 1)] for k, v in cost["operations"].items()]
    floor = cost["floor"]
    floor_rows = [[what, _f(units, 1), ""] for what, units in floor["reads"].items()]
    floor_rows += [[what, "", _f(units, 1)] for what, units in floor["writes"].items()]
    dollars = cost["dollars_per_million"]
    usage = cost["usage"]
    money = [
        ["DynamoDB reads", f"{_f(usage['rru'], 1)} RRU", _f(dollars["dynamodb_reads"], 2)],
        ["DynamoDB writes", f"{_f(usage['wru'], 1)} WRU", _f(dollars["dynamodb_writes"], 2)],
        ["SQS", f"{_f(usage['sqs_requests'], 1)} requests", _f(dollars["sqs"], 2)],
        ["Lambda requests", f"{_f(usage['lambda_requests'], 1)}", _f(dollars["lambda_requests"], 2)],
        [
            "Lambda duration (512 MB, arm64)",
            f"{_f(usage['lambda_gb_seconds'], 3)} GB-s",
            _f(dollars["lambda_duration"], 2),
        ],
        ["API Gateway HTTP API", f"{_f(usage['api_requests'], 0)} requests", _f(dollars["api_gateway"], 2)],
        ["**total (AWS, without mail)**", "", f"**{_f(dollars['total'], 2)}**"],
        ["SES confirmation mail (apart)", f"{_f(usage['emails'], 0)} mail", _f(dollars["ses"], 2)],
    ]
    prices = [
        [p.what, f"${p.usd:.10f}".rstrip("0").rstrip(".") + f" per {p.per:,.0f} {p.unit}", p.source, p.read]
        for p in PRICES.values()
    ]
    return [
        "## 4. Cost per renewal",
        "",
        f"{cost['renewals']} renewals one after another (checkout, payment on the stand-in, which delivers the"
        " webhook, activation and its mail; one unmeasured first), each in its own time window; DynamoDB's"
        " consumed capacity as DynamoDB Local returned it (`ReturnConsumedCapacity: TOTAL`, index writes"
        f" included). Per renewal: {_f(per['dynamodb_calls'], 1)} DynamoDB calls, {_f(per['invocations'], 1)}"
        f" Lambda invocations, {_f(per['handler_ms'], 0)} ms of handler time.",
        "",
        *_table(["function and call", "calls", "read units", "write units"], ops),
        "",
        f"Floor ({_f(floor['rru'], 1)} read + {_f(floor['wru'], 1)} write units): what the domain's rules strictly"
        " need, each at what the same call cost in this run:",
        "",
        *_table(["needed", "read units", "write units"], floor_rows),
        "",
        f"Measured / floor: reads {_x(cost['ratio_rru'])}, writes {_x(cost['ratio_wru'])}, all request units"
        f" {_x(cost['ratio_request_units'])} (goal 1.2x).",
        "",
        "Dollars per million renewals at list prices (us-east-1, on demand, no free tier):",
        "",
        *_table(["item", "per renewal", "$ per million renewals"], money),
        "",
        cost["sqs_note"] + ".",
        "",
        *_table(["price", "figure", "source", "read"], prices),
        "",
    ]


def _reminders(reminders: dict[str, Any] | None) -> list[str]:
    if not reminders:
        return []
    rows = []
    for r in reminders["runs"]:
        scan = r.get("naive_scan") or {}
        rows.append(
            [
                _f(r["accounts"]) + (" (extrapolated)" if r.get("extrapolated") else ""),
                _f(r["due_expected"]),
                _f(r["run"]["items_read"]),
                _f(r["run"]["capacity_units"], 1),
                _f(r["run_seconds"], 2, " s"),
                _f(r["mails_queued_per_second"], 0),
                _f(scan.get("items_read")),
                _f(scan.get("capacity_units"), 1),
                _f(scan.get("seconds"), 2, " s"),
                _x(r["read_ratio"]),
            ]
        )
    return [
        "## 5. Reminder scaling",
        "",
        "The real reminder run (the `by_remind_at` index query, queueing into SQS on moto, moving each line on)"
        " over a Lines table of its own with 1 % of the accounts due, beside a naive scan of the same table in"
        " the same run. Floor: reading exactly the due lines (ratio = items read / due)."
        f" {reminders['note']}",
        "",
        *_table(
            [
                "accounts",
                "due",
                "items read",
                "read units",
                "run time",
                "mails queued /s",
                "scan items",
                "scan units",
                "scan time",
                "ratio",
            ],
            rows,
        ),
        "",
    ]


def _package(package: dict[str, Any] | None) -> list[str]:
    if not package:
        return []
    layer = package["layer"]
    rows = [["SharedLayer", _f(layer["zipped_mb"] * 1000, 0, " KB"), _f(layer["unzipped_mb"] * 1000, 0, " KB")]]
    rows += [[r["bundle"], _f(r["zipped_kb"], 1, " KB"), _f(r["unzipped_kb"], 1, " KB")] for r in package["functions"]]
    heavy = ", ".join(f"{h['package']} {h['unzipped_mb']:.1f} MB" for h in layer["heaviest"])
    return [
        "## 6. Package size",
        "",
        f"From {package['how']}; zipped with deflate as `sam package` does. Floor: {layer['floor']}:"
        f" {_f(layer['floor_zipped_mb'], 1, ' MB')} zipped ({_x(layer['ratio'])}). Heaviest in the layer"
        f" (unzipped): {heavy}. Lambda's limit is {layer['limit_unzipped_mb']} MB unzipped for a function and"
        " its layers.",
        "",
        *_table(["bundle", "zipped", "unzipped"], rows),
        "",
    ]
