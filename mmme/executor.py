"""One executor for every per-trial, per-subject and per-fold job.

Local processes by default; Dask distributed with a scheduler address or a LocalCluster of N
workers. Results always come back in input order, with a rich progress bar.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mmme._logging import logger
from mmme.errors import MMMEError

#: Workers start from a fork server, never by forking this process: a fork copies the locks of
#: every thread running here (OpenCV's pool, Dask's, rich's refresh) held mid-call, and the
#: child can wait on them forever (seen: a worker stuck in cv2.setNumThreads).
_MP_CONTEXT = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")

T = TypeVar("T")
R = TypeVar("R")


class Executor:
    """Run independent jobs locally or on Dask.

    Parameters
    ----------
    n_jobs : int | None
        Local worker processes; ``None`` means the number of CPUs, ``1`` runs inline in this
        process (no pickling, easiest to debug).
    scheduler : str | None
        Address of a running Dask scheduler (``tcp://host:8786``); jobs go there.
    dask_workers : int | None
        Start a Dask ``LocalCluster`` with this many single-threaded worker processes.
    progress : bool
        Show a rich progress bar.

    Examples
    --------
    >>> with Executor(n_jobs=2) as ex:
    ...     squares = ex.map(pow, [(2, 2), (3, 2)], star=True)
    """

    def __init__(
        self,
        n_jobs: int | None = None,
        scheduler: str | None = None,
        dask_workers: int | None = None,
        progress: bool = True,
    ) -> None:
        if scheduler is not None and dask_workers is not None:
            raise ValueError("give either scheduler or dask_workers, not both")
        self.n_jobs = n_jobs
        self.scheduler = scheduler
        self.dask_workers = dask_workers
        self.progress = progress
        self._client: Any = None
        self._cluster: Any = None

    @property
    def backend(self) -> str:
        """``"dask"``, ``"processes"`` or ``"inline"``."""
        if self.scheduler is not None or self.dask_workers is not None:
            return "dask"
        if self._local_workers() == 1:
            return "inline"
        return "processes"

    def _local_workers(self) -> int:
        return self.n_jobs if self.n_jobs is not None else (os.cpu_count() or 1)

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Shut down a Dask client/cluster this executor started."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _dask_client(self) -> Any:
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.scheduler is not None:
                self._client = Client(self.scheduler)
            else:
                self._cluster = LocalCluster(
                    n_workers=self.dask_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
            logger.info("dask client %s", self._client)
        return self._client

    def map(
        self,
        fn: Callable[..., R],
        items: Iterable[Any],
        desc: str = "jobs",
        star: bool = False,
    ) -> list[R]:
        """Apply ``fn`` to every item; return the results in input order.

        Parameters
        ----------
        fn : callable
            A picklable top-level function.
        items : iterable
            The jobs' arguments.
        desc : str
            Label of the progress bar.
        star : bool
            Call ``fn(*item)`` instead of ``fn(item)``.

        Raises
        ------
        Exception
            The first job's exception, re-raised after the others were cancelled.
        """
        jobs: Sequence[Any] = list(items)
        call = _StarCall(fn) if star else fn
        results: list[Any] = [None] * len(jobs)
        with self._progress(desc, len(jobs)) as advance:
            if self.backend == "inline" or len(jobs) <= 1 and self.backend != "dask":
                for i, job in enumerate(jobs):
                    results[i] = call(job)
                    advance()
            elif self.backend == "processes":
                workers = min(self._local_workers(), len(jobs))
                with ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=_MP_CONTEXT,
                    initializer=_die_with_parent,
                    initargs=(os.getpid(),),
                ) as pool:
                    futs: dict[Future[Any], int] = {
                        pool.submit(call, job): i for i, job in enumerate(jobs)
                    }
                    try:
                        for fut in as_completed(futs):
                            results[futs[fut]] = fut.result()
                            advance()
                    except BrokenProcessPool as exc:
                        raise MMMEError(
                            f"{desc}: a worker process was killed (out of memory, a full disk "
                            "under a memory-mapped write, or a signal)"
                        ) from exc
                    except BaseException:
                        for f in futs:
                            f.cancel()
                        raise
            else:
                from distributed import as_completed as dask_as_completed

                client = self._dask_client()
                dfuts = client.map(call, jobs, pure=False)
                index = {f.key: i for i, f in enumerate(dfuts)}
                try:
                    for fut in dask_as_completed(dfuts):
                        results[index[fut.key]] = fut.result()
                        advance()
                except BaseException:
                    client.cancel(dfuts)
                    raise
        return results

    def _progress(self, desc: str, total: int) -> _ProgressCtx:
        return _ProgressCtx(desc, total, self.progress)


def _die_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Worker initializer: end this worker when the process that started the pool dies.

    A killed import (``kill -9``) would otherwise leave its workers running or waiting forever
    for jobs. On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``);
    everywhere a daemon thread also polls the parent's PID (it covers non-Linux systems, a
    parent that died before this ran, and start methods where the pool's parent is a fork
    server).
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no libc prctl: the thread below does it
            pass

    def watch() -> None:
        while True:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            time.sleep(poll_s)

    threading.Thread(target=watch, name="mmme-parent-watch", daemon=True).start()


class _StarCall:
    """Picklable ``fn(*args)`` adapter."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, args: Sequence[Any]) -> Any:
        return self.fn(*args)


class _ProgressCtx:
    def __init__(self, desc: str, total: int, enabled: bool) -> None:
        self.desc, self.total, self.enabled = desc, total, enabled
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> Callable[[], None]:
        if self.enabled and self.total:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.desc, total=self.total)
        return self._advance

    def _advance(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def executor_from_options(
    n_jobs: int | None = None,
    scheduler: str | None = None,
    dask_workers: int | None = None,
    progress: bool = True,
) -> Executor:
    """Build the executor the CLI's ``--n-jobs/--scheduler/--dask-workers`` options describe."""
    return Executor(
        n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers, progress=progress
    )
