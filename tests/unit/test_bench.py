"""The benchmark's pure helpers: percentiles, billed GB-seconds, price arithmetic, the call log's
capacity parsing, and the report's goal lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.bench.local import first_requests
from infra.bench.prices import PRICES, RenewalUsage, dollars_per_million
from infra.bench.report import summary_rows
from infra.bench.stats import billed_gb_seconds, percentile, ratio, rounded, summary
from infra.local.lambda_worker import _capacity_units, _transaction_keys


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # unsorted input


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_and_ratio() -> None:
    found = summary([10.0, 20.0, 30.0, 40.0])
    assert found["n"] == 4
    assert found["p50"] == 25.0
    assert found["mean"] == 25.0
    assert found["max"] == 40.0
    assert ratio(30.0, 20.0) == 1.5
    assert ratio(1.0, 0.0) is None


def test_billed_gb_seconds_round_each_invocation_up_to_a_millisecond() -> None:
    # 10.2 ms -> 11 ms, 0.5 ms -> 1 ms; 12 ms at 512 MB = 0.006 GB-s
    assert billed_gb_seconds([10.2, 0.5], 512) == pytest.approx(0.012 * 0.5)
    assert billed_gb_seconds([1000.0], 1024) == pytest.approx(1.0)


def test_dollars_per_million_renewals() -> None:
    usage = RenewalUsage(
        rru=8, wru=29, sqs_requests=3, lambda_requests=3, lambda_gb_seconds=0.25, api_requests=2, emails=1
    )
    dollars = dollars_per_million(usage)
    assert dollars["dynamodb_reads"] == pytest.approx(8 * 0.125)
    assert dollars["dynamodb_writes"] == pytest.approx(29 * 0.625)
    assert dollars["sqs"] == pytest.approx(3 * 0.40)
    assert dollars["lambda_requests"] == pytest.approx(3 * 0.20)
    assert dollars["lambda_duration"] == pytest.approx(0.25 * 0.0000133334 * 1_000_000)
    assert dollars["api_gateway"] == pytest.approx(2.0)
    parts = ("dynamodb_reads", "dynamodb_writes", "sqs", "lambda_requests", "lambda_duration", "api_gateway")
    assert dollars["total"] == pytest.approx(sum(dollars[k] for k in parts))
    assert dollars["ses"] == pytest.approx(100.0)  # apart from the total
    assert all(p.source and p.read for p in PRICES.values())


def test_consumed_capacity_single_table_and_transactions() -> None:
    assert _capacity_units({"TableName": "t", "CapacityUnits": 2.0}) == 2.0
    assert _capacity_units([{"CapacityUnits": 4.0}, {"CapacityUnits": 12.0}]) == 16.0
    assert _capacity_units(None) == 0.0


def test_transaction_keys_name_each_item() -> None:
    params = {
        "TransactItems": [
            {"Update": {"TableName": "s-OrdersTable", "Key": {"order_id": {"S": "o-1"}}}},
            {"Update": {"TableName": "s-LinesTable", "Key": {"iccid": {"S": "8985"}}}},
            {"Put": {"TableName": "s-StoresTable", "Item": {"store_id": {"S": "HKG"}, "n": {"N": "1"}}}},
        ]
    }
    assert _transaction_keys(params) == ["s-OrdersTable:o-1", "s-LinesTable:8985", "s-StoresTable:HKG"]


def test_rounded_goes_through_nested_results() -> None:
    assert rounded({"a": [1.23456, {"b": 2.0001}], "c": "x"}, 2) == {"a": [1.23, {"b": 2.0}], "c": "x"}


def test_summary_rows_say_which_goals_are_met() -> None:
    results = {
        "cold_start": {
            "floor_ms": 400.0,
            "functions": [
                {"function": "floor", "median_ms": 400.0, "ratio": 1.0},
                {"function": "A", "median_ms": 480.0, "ratio": 1.2},
                {"function": "B", "median_ms": 600.0, "ratio": 1.5},
            ],
        },
        "reminders": {
            "grows_with_due": True,
            "runs": [
                {"accounts": 10_000, "due_expected": 100, "read_ratio": 1.0, "run": {"items_read": 100}},
                {"accounts": 1_000_000, "extrapolated": True, "due_expected": 10_000, "read_ratio": 1.0, "run": {}},
            ],
        },
    }
    rows = summary_rows(results)
    assert rows[0][0].endswith("(B)")
    assert rows[0][3] == "1.50x"
    assert rows[0][-1] == "no"
    assert rows[1][1] == "100"  # the largest real run, not the extrapolated one
    assert rows[1][-1] == "yes"


def test_first_requests_take_each_workers_first_invocation(tmp_path: Path) -> None:
    def inv(function: str, cpu_ms: float) -> str:
        return json.dumps({"t": "inv", "fn": f"renewal-local-{function}", "cpu_ms": cpu_ms, "start": 0.0})

    call = json.dumps({"t": "call", "fn": "renewal-local-WebhookFunction", "cpu_ms": 99.0})
    (tmp_path / "WebhookFunction-1.jsonl").write_text(
        "\n".join([call, inv("WebhookFunction", 300), inv("WebhookFunction", 10), inv("WebhookFunction", 12)])
    )
    (tmp_path / "WebhookFunction-2.jsonl").write_text(
        "\n".join([inv("WebhookFunction", 100), inv("WebhookFunction", 14), '{"t": "inv", "cut'])
    )
    (tmp_path / "UsageFunction-3.jsonl").write_text(inv("UsageFunction", 50))
    found = first_requests(tmp_path)
    assert found["WebhookFunction"] == {"workers": 2, "first_cpu_ms": 200.0, "later_cpu_ms": 12.0}
    assert found["UsageFunction"] == {"workers": 1, "first_cpu_ms": 50.0, "later_cpu_ms": None}
