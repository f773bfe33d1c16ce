"""The renewal pipeline's shared package: domain, use cases and adapters (a Lambda layer)."""
