"""Plain-Python rules of the product: no I/O, no boto3, no stripe."""
