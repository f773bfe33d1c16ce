"""One botocore session per process (per thread) behind every AWS client the adapters make.

Each new botocore session reads the service model and endpoint rules from disk again: a client
from a new session costs many times what another client of the same session does (`make bench`
measures both in its connection probe). PynamoDB makes a session for each model's connection, Powertools'
idempotency and parameters utilities one each and boto3's default session another, so a cold
webhook's first request built four sessions. Here all of them share one.

Sessions are not thread-safe (clients are), so the shared session is per thread, as PynamoDB's own
are; Lambda runs a handler on one thread, and the reminder run's worker threads get one each."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.session

from renewal.snapstart import after_restore

_per_thread = threading.local()
_every_client: list[Any] = []  # every thread's, for the restore hook


def botocore_session() -> botocore.session.Session:
    session: botocore.session.Session | None = getattr(_per_thread, "botocore", None)
    if session is None:
        session = _per_thread.botocore = botocore.session.get_session()
        _record_clients(session)
    return session


def _record_clients(session: botocore.session.Session) -> None:
    """Every client made on `session` (boto3's and PynamoDB's alike) is remembered, so a SnapStart
    restore can empty their connection pools."""
    create_client = session.create_client

    def recorded(*args: Any, **kwargs: Any) -> Any:
        made = create_client(*args, **kwargs)
        _every_client.append(made)
        return made

    session.create_client = recorded


def boto3_session() -> boto3.session.Session:
    session: boto3.session.Session | None = getattr(_per_thread, "boto3", None)
    if session is None:
        session = _per_thread.boto3 = boto3.session.Session(botocore_session=botocore_session())
    return session


def client(service: str) -> Any:
    """This thread's client of `service`, made once on the shared session."""
    clients: dict[str, Any] = _per_thread.__dict__.setdefault("clients", {})
    if service not in clients:
        clients[service] = boto3_session().client(service)
    return clients[service]


@after_restore
def _drop_connections() -> None:
    """After a SnapStart restore the pooled sockets are dead: empty the pools (the clients, their
    models and credentials stay; PynamoDB's connections use clients of the same sessions)."""
    for made in _every_client:
        made._endpoint.http_session.close()


def prepare(*services: str) -> None:
    """Makes these clients now. Called from Lambda init (no network is used): the service models
    are read from disk there rather than in the first request, and PynamoDB's own clients, made
    on the same session at the first request, then take a few ms."""
    for service in services:
        client(service)


def share_with_pynamodb() -> None:
    """PynamoDB 6 asks `pynamodb.connection.base.get_session` for a new botocore session for each
    connection (one per model); it gets this thread's shared session instead. A unit test checks
    that two models' connections end up with one session, so an upgrade that changes this shows."""
    import pynamodb.connection.base

    pynamodb.connection.base.get_session = botocore_session
