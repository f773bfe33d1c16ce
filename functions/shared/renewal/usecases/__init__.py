"""Use cases: each reads like the story it tells, over the ports in renewal.ports."""
