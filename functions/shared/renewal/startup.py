"""Imported first by every handler module (`import renewal.startup`), and `ready()` called last.

Why: a handler's imports and init allocate a few hundred thousand objects (botocore's models,
Powertools, pydantic, PynamoDB). With the garbage collector on, CPython keeps walking them in
collections during the imports (StoreApi's init took a quarter longer with it on when last
measured; `make bench` re-measures cold starts) and again in the full collections that later land
inside requests (latency tail). So the collector is held off during init, and `ready()` moves
everything init made into the permanent generation (`gc.freeze`) before turning it back on: what
requests allocate is still collected."""

import gc

gc.disable()


def ready() -> None:
    """The end of a handler module: init is done (and, with SnapStart, about to be snapshotted)."""
    from renewal.snapstart import register_with_runtime

    register_with_runtime()
    gc.freeze()
    gc.enable()
