"""Child processes that cannot outlive the local stack, even when it is killed with SIGKILL."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import sys
from http.server import ThreadingHTTPServer
from typing import Any

_PR_SET_PDEATHSIG = 1


def child_preexec() -> None:
    """Runs in each child before exec: Linux sends it SIGTERM when the thread that started it
    ends, so only call it from the main thread (the stack's emulators). Ctrl-C in the terminal is
    for the stack alone (it stops its children in order): the children run in sessions of their
    own, and ignore SIGINT besides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class QuietHTTPServer(ThreadingHTTPServer):
    """The local servers (gateway, Stripe stand-in, carrier simulator): a client that hangs up
    mid-answer (a browser tab closed, a test ending, the stack stopping) is not worth a traceback
    in the terminal; any other error still is, through logging."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        logging.getLogger("local-http").exception("error answering %s", client_address)
