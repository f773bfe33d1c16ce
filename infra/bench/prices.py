"""AWS list prices (us-east-1, on-demand, no free tier) and the arithmetic from what one renewal
uses to dollars per million renewals. Pure; unit-tested. When a price changes, change it here
and say where and when it was read."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Price:
    what: str
    usd: float
    per: float  # how many units `usd` buys
    unit: str
    source: str
    read: str  # when the figure was read

    @property
    def per_unit(self) -> float:
        return self.usd / self.per


PRICES: dict[str, Price] = {
    "lambda_gb_second": Price(
        "Lambda duration, arm64",
        0.0000133334,
        1,
        "GB-second",
        "aws.amazon.com/lambda/pricing (first 7.5 billion GB-s a month), as tabulated in artillery 2.0.28 "
        "lib/platform/aws-lambda/prices.js (arm64 1333340e-10)",
        "2026-11-25",
    ),
    "lambda_request": Price(
        "Lambda requests",
        0.20,
        1_000_000,
        "requests",
        "aws.amazon.com/lambda/pricing, as transcribed 2026-09-20 (api-evangelist/aws-lambda plans)",
        "2026-11-25",
    ),
    "dynamodb_wru": Price(
        "DynamoDB on-demand writes",
        0.625,
        1_000_000,
        "write request units",
        "aws.amazon.com/dynamodb/pricing/on-demand, after the 50 % cut of 2024-11-01 (as quoted by "
        "airbyte.com, 2025-07-21)",
        "2026-11-25",
    ),
    "dynamodb_rru": Price(
        "DynamoDB on-demand reads",
        0.125,
        1_000_000,
        "read request units",
        "as dynamodb_wru",
        "2026-11-25",
    ),
    "sqs_request": Price(
        "SQS standard requests",
        0.40,
        1_000_000,
        "requests (64 KB each)",
        "aws.amazon.com/sqs/pricing (first 100 billion a month), as quoted by cloudburn.io 2026-03-14",
        "2026-11-25",
    ),
    "http_api_request": Price(
        "API Gateway HTTP API",
        1.00,
        1_000_000,
        "requests (512 KB each)",
        "aws.amazon.com/api-gateway/pricing (first 300 million a month); not re-checked in this run",
        "2026-11-25",
    ),
    "ses_email": Price(
        "SES outbound mail",
        0.10,
        1_000,
        "emails",
        "aws.amazon.com/ses/pricing; not re-checked in this run",
        "2026-11-25",
    ),
}


@dataclass(frozen=True)
class RenewalUsage:
    """What one renewal uses, checkout to activation."""

    rru: float
    wru: float
    sqs_requests: float
    lambda_requests: float
    lambda_gb_seconds: float
    api_requests: float
    emails: float


def dollars_per_million(usage: RenewalUsage, prices: dict[str, Price] = PRICES) -> dict[str, float]:
    """Dollars per million renewals, per line item; `total` is the pipeline's own AWS bill
    (DynamoDB, SQS, Lambda, API Gateway); mail is given apart (`ses`), Stripe's fee not at all."""
    million = 1_000_000
    lines = {
        "dynamodb_reads": usage.rru * prices["dynamodb_rru"].per_unit * million,
        "dynamodb_writes": usage.wru * prices["dynamodb_wru"].per_unit * million,
        "sqs": usage.sqs_requests * prices["sqs_request"].per_unit * million,
        "lambda_requests": usage.lambda_requests * prices["lambda_request"].per_unit * million,
        "lambda_duration": usage.lambda_gb_seconds * prices["lambda_gb_second"].per_unit * million,
        "api_gateway": usage.api_requests * prices["http_api_request"].per_unit * million,
    }
    lines["total"] = sum(lines.values())
    lines["ses"] = usage.emails * prices["ses_email"].per_unit * million
    return lines


def price_table(prices: dict[str, Price] = PRICES) -> list[dict[str, object]]:
    return [{"key": key, **asdict(price)} for key, price in prices.items()]
