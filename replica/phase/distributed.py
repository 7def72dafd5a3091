"""Where the rows of a phase diagram run: in this process (the default), on a local Dask cluster
(``workers=N``: ``dask.distributed.LocalCluster``, one single-threaded process per worker) or on
an existing cluster (``scheduler="tcp://host:port"``, e.g. started by dask-jobqueue on SLURM).

Every executor runs the same task functions on the same arguments (:mod:`replica.phase.grid`),
so the numbers do not depend on the choice; only the order in which tasks finish does, and
results are returned in submission order.
"""
from __future__ import annotations

import logging


__all__ = ["executor", "InProcess", "DaskExecutor"]


class InProcess:
    """Run tasks one after the other in this process."""

    def map(self, fn, calls: list, progress=None) -> list:
        out = []
        for args in calls:
            out.append(fn(*args))
            if progress is not None:
                progress.update(1)
        return out

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskExecutor(InProcess):
    """Run tasks on a Dask distributed cluster: a new ``LocalCluster`` of ``workers`` processes,
    or the scheduler at ``scheduler``.  Closed (local cluster shut down) by :meth:`close`."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        from dask.distributed import Client, LocalCluster
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            if workers is None or int(workers) < 1:
                raise ValueError(f"workers must be a positive integer, got {workers!r}")
            self.cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)

    def map(self, fn, calls: list, progress=None) -> list:
        from dask.distributed import as_completed
        futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        for _ in as_completed(futures):
            if progress is not None:
                progress.update(1)
        return self.client.gather(futures)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def executor(workers: int | None = None, scheduler: str | None = None):
    """The executor for these options: in process unless ``workers`` or ``scheduler`` is given."""
    if workers is not None and scheduler is not None:
        raise ValueError("give workers (a new local cluster) or scheduler (an existing one), not both")
    if workers is None and scheduler is None:
        return InProcess()
    return DaskExecutor(workers, scheduler)
