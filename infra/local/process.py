"""Child processes that cannot outlive the local stack, even when it is killed with SIGKILL."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def child_preexec() -> None:
    """Runs in each child before exec: Linux sends it SIGTERM when the thread that started it
    ends, so only call it from the main thread (the stack's emulators)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
