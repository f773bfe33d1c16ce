"""What X-Ray traces in every function, chosen once.

Powertools' Tracer patches every module the X-Ray SDK knows by default, importing `requests`,
`sqlite3`, `pynamodb`'s hooks and more at init: about a quarter of an API function's cold start
(measured by `make bench`). We trace the AWS calls (botocore, which PynamoDB also goes through)
and raw HTTP (httplib: the Stripe SDK and the carrier client both end there)."""

TRACED_MODULES: tuple[str, ...] = ("botocore", "httplib")
