"""The executor: same results in input order on every backend; errors come through."""

from __future__ import annotations

import os

import pytest

from mmme.executor import Executor


def square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"job {x} failed")
    return x


@pytest.mark.parametrize(
    ("kwargs", "backend"),
    [({"n_jobs": 1}, "inline"), ({"n_jobs": 2}, "processes"), ({"dask_workers": 2}, "dask")],
)
def test_backends_agree(kwargs, backend):
    with Executor(progress=False, **kwargs) as ex:
        assert ex.backend == backend
        out = ex.map(square_and_pid, range(12))
    assert [r for r, _ in out] == [x * x for x in range(12)]
    pids = {p for _, p in out}
    assert (pids == {os.getpid()}) == (backend == "inline")


@pytest.mark.parametrize("kwargs", [{"n_jobs": 1}, {"n_jobs": 2}, {"dask_workers": 1}])
def test_errors_propagate(kwargs):
    with Executor(progress=False, **kwargs) as ex, pytest.raises(ValueError, match="job 3"):
        ex.map(fail_on_three, range(6))


def test_scheduler_address():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        with Executor(scheduler=cluster.scheduler_address, progress=False) as ex:
            assert ex.map(pow, [(2, 3), (3, 2)], star=True) == [8, 9]


def test_rejects_both_dask_options():
    with pytest.raises(ValueError):
        Executor(scheduler="tcp://x:1", dask_workers=2)
