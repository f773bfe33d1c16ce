"""Local Stripe stand-in (see README.md). ``python -m infra.local.stripe_standin --help``."""

from .server import StripeStandIn

__all__ = ["StripeStandIn"]
