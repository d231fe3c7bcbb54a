"""Where the chunk tasks run: a ``dask.distributed`` client, or a local Dask scheduler."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import dask

__all__ = ["Runner", "runner"]


class Runner:
    """Runs chunk tasks on a Dask scheduler: one task per argument tuple."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def __call__(self, fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``[fn(*a) for a in args]``, computed on the scheduler."""
        tasks = [dask.delayed(fn, pure=False)(*a) for a in args]
        return list(dask.compute(*tasks, scheduler=self.scheduler))

    def compute(self, *collections: Any) -> tuple[Any, ...]:
        """Compute Dask collections on the scheduler."""
        return tuple(dask.compute(*collections, scheduler=self.scheduler))


@contextlib.contextmanager
def runner(client: Any = None, *, workers: int | None = None) -> Iterator[Runner]:
    """Yield a function that runs one task per argument tuple and returns the results.

    Parameters
    ----------
    client : None, str, distributed.Client or a Dask scheduler name
        ``None``: a new ``LocalCluster`` (one single-threaded worker process per core,
        closed at the end). A string with ``://`` (``tcp://host:8786``): connect to that
        scheduler. ``"synchronous"``, ``"threads"`` or ``"processes"``: Dask's local
        schedulers (no cluster; tests). Anything else is used as the scheduler itself
        (a ``distributed.Client``).
    workers : int, optional
        Number of worker processes of the LocalCluster.
    """
    own = None
    sched: Any = client
    if client is None or (isinstance(client, str) and "://" in client):
        from distributed import Client, LocalCluster

        if client is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
            own = Client(cluster)
        else:
            own = Client(client)
        sched = own

    try:
        yield Runner(sched)
    finally:
        if own is not None:
            cluster_obj = own.cluster
            own.close()
            if cluster_obj is not None and client is None:
                cluster_obj.close()
