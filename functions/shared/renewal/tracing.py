"""What X-Ray traces in every function, chosen once.

Powertools' Tracer patches every module the X-Ray SDK knows by default, importing `requests`,
`sqlite3`, `pynamodb`'s hooks and more at init (StoreApi's handler import went from 930-1080 to
770-800 ms when this was narrowed, 2026-11-25). We trace the AWS calls (botocore, which PynamoDB
also goes through) and raw HTTP (httplib: the Stripe SDK and the carrier client both end there)."""

TRACED_MODULES: tuple[str, ...] = ("botocore", "httplib")
