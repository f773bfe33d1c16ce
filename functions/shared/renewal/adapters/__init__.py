"""Adapters: the one place each outside system (DynamoDB, Stripe, SQS, SES) is reached."""
