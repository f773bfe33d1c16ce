"""What a function must redo after Lambda SnapStart restores it from a snapshot of its init
(template.yaml, parameter SnapStart).

A snapshot freezes init's memory, so every restored instance starts with the same `random` state
(and would draw the same "random" numbers), and with the sockets init's clients held, which are
dead by then. So after a restore `random` is reseeded and every connection pool init made is
emptied (clients reconnect on their next call, keeping their loaded models). Adapters register
what they hold with `after_restore`; `renewal.startup.ready()` hands `restored` to the runtime's
hook (the `snapshot_restore_py` module the python3.13 runtime provides). Off Lambda, or without
SnapStart, the hook is never called. Not measurable on the local stack (docs/decisions.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable

_hooks: list[Callable[[], None]] = []


def after_restore(hook: Callable[[], None]) -> Callable[[], None]:
    _hooks.append(hook)
    return hook


def restored() -> None:
    """Runs every registered hook (what the runtime calls after a restore)."""
    for hook in list(_hooks):
        hook()


def register_with_runtime() -> bool:
    """True when the runtime's SnapStart hooks are available and `restored` is registered."""
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(restored)
    return True


after_restore(random.seed)  # a fresh seed from os.urandom for each restored instance
