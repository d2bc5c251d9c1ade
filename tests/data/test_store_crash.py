"""Killed imports (kill -9), two imports into one store, a full disk: nothing is lost or left."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import mmme.data.store as store_mod
from mmme.data.store import Store, StoreLock, StoreWriter, clean_stale, open_signal_memmap
from mmme.errors import DiskFullError, StoreLockedError

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, trial: str, **kw: object) -> Store:
    with StoreWriter(path, dataset="test", **kw) as w:
        w.add_trials([{"subject": "S01", "session": "1", "trial": trial, "start_s": 1.0}])
    return Store(path)


def _spawn(code: str) -> subprocess.Popen[str]:
    """A Python child running ``code``; it prints ``ready`` when it reached the point to kill."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(Path(__file__).parent)])},
    )


def _wait_ready(p: subprocess.Popen[str]) -> str:
    assert p.stdout is not None
    line = p.stdout.readline().strip()
    assert line.startswith("ready"), line
    return line


def _kill9(p: subprocess.Popen[str]) -> None:
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)  # reaped: its PID is dead, not a zombie


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


BUILDING = """
    import time
    from mmme.data.store import StoreWriter
    w = StoreWriter({path!r}, dataset="test")
    w.__enter__()
    mm = w.signal_file("S01", "1", "eeg", 1000, 4)
    mm[:] = 1.0
    print("ready", flush=True)
    time.sleep(120)
"""


def test_kill9_while_building_leaves_temp_that_next_import_removes(tmp_path):
    path = tmp_path / "store"
    _write(path, "101")
    p = _spawn(BUILDING.format(path=str(path)))
    _wait_ready(p)
    _kill9(p)
    tmp = tmp_path / f".store.tmp-{p.pid}"
    assert (tmp / "sessions" / "S01" / "1" / "signals" / "eeg.npy").exists()  # the leftover
    assert Store(path).trials["trial"].tolist() == ["101"]  # the old store is intact
    assert _write(path, "102").trials["trial"].tolist() == ["102"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_kill9_inside_commit_swap_restores_previous_store(tmp_path):
    path = tmp_path / "store"
    _write(path, "101")
    p = _spawn(f"""
        import os, signal
        import mmme.data.store as sm
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            if ".old-" in str(dst):  # the old store moved aside, the new one not yet in place
                print("ready", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        sm.os.replace = replace
        with sm.StoreWriter({str(path)!r}, dataset="test") as w:
            w.add_trials([dict(subject="S01", session="1", trial="102", start_s=1.0)])
    """)
    _wait_ready(p)
    _kill9(p)
    old = tmp_path / f".store.old-{p.pid}"
    assert not path.exists() and (old / "store.json").is_file()  # the failure as found
    assert (tmp_path / f".store.tmp-{p.pid}").is_dir()
    # opening the store puts the previous one back and clears the rest
    assert Store(path).trials["trial"].tolist() == ["101"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_next_import_restores_orphaned_store_then_replaces_it(tmp_path, monkeypatch):
    path = tmp_path / "store"
    _write(path, "101")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    os.replace(path, tmp_path / f".store.old-{dead.pid}")
    done: list[str] = []
    real = store_mod.clean_stale
    monkeypatch.setattr(store_mod, "clean_stale", lambda p: done.extend(real(p)) or done)
    assert _write(path, "102").trials["trial"].tolist() == ["102"]
    assert done[0].startswith("restored the previous store"), done
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_leftovers_of_a_live_process_are_kept(tmp_path):
    path = tmp_path / "store"
    _write(path, "101")
    live = os.getppid()
    kept = [tmp_path / f".store.tmp-{live}", tmp_path / f".store.raw-{live}",
            tmp_path / f"..store.raw-{live}.tmp-{live}"]
    for k in kept:
        k.mkdir()
    other = tmp_path / ".other.tmp-1"  # another store's temporary
    other.mkdir()
    assert clean_stale(path) == []
    assert all(k.exists() for k in [*kept, other])


def test_nested_leftovers_of_a_dead_pseudonymizing_import_are_removed(tmp_path):
    path = tmp_path / "store"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = [f".store.raw-{dead.pid}", f"..store.raw-{dead.pid}.tmp-{dead.pid}",
             f".store.copy-{dead.pid}"]
    for n in names:
        (tmp_path / n).mkdir()
    (tmp_path / f"..store.raw-{dead.pid}.lock").write_text(str(dead.pid))
    _write(path, "101")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_second_writer_refuses_naming_the_holder_then_waits(tmp_path):
    path = tmp_path / "store"
    _write(path, "101")
    p = _spawn(BUILDING.format(path=str(path)))
    _wait_ready(p)
    try:
        with pytest.raises(StoreLockedError, match=rf"{path}: another import \(PID {p.pid}\)"):
            _write(path, "102")
        assert Store(path).trials["trial"].tolist() == ["101"]
        assert (tmp_path / f".store.tmp-{p.pid}").is_dir()  # the holder's work untouched
    finally:
        _kill9(p)
    # the kernel dropped the dead holder's lock: the next writer goes ahead and cleans up
    assert _write(path, "103").trials["trial"].tolist() == ["103"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_waiting_writer_goes_after_the_holder(tmp_path):
    path = tmp_path / "store"
    lock = StoreLock(path)
    lock.acquire()
    p = _spawn(f"""
        import time
        from mmme.data.store import StoreWriter
        print("ready", flush=True)
        t0 = time.monotonic()
        with StoreWriter({str(path)!r}, dataset="test", wait_s=30) as w:
            w.add_trials([dict(subject="S01", session="1", trial="102", start_s=1.0)])
        print(time.monotonic() - t0, flush=True)
    """)
    _wait_ready(p)
    time.sleep(1.0)
    assert not path.exists()  # still waiting
    lock.release()
    assert p.stdout is not None
    waited = float(p.stdout.readline())
    assert p.wait(timeout=30) == 0
    assert waited >= 0.9
    assert Store(path).trials["trial"].tolist() == ["102"]


# the job lives in an importable module: workers start from a fork server, which imports it
JOBS = """
    from mmme.executor import Executor
    from test_store_crash import sleeping_job
    Executor(n_jobs=2, progress=False).map(sleeping_job, range(2))
"""


def sleeping_job(i: int) -> None:
    os.write(1, f"ready {os.getpid()}\n".encode())
    time.sleep(120)


def test_workers_die_with_a_killed_parent():
    p = _spawn(JOBS)
    pids = [int(_wait_ready(p).split()[1]) for _ in range(2)]
    try:
        assert all(_alive(pid) for pid in pids)
        _kill9(p)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids), "orphan workers left running"
    finally:
        for pid in pids:  # never leave them behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- a full disk ------------------------------------------------------------------------------


def test_space_is_checked_before_a_memmap_is_created(tmp_path, monkeypatch):
    usage = store_mod.shutil.disk_usage(tmp_path)
    need = 4 * 100_000 * 8 + 4096
    free = need + store_mod.SPACE_MARGIN
    monkeypatch.setattr(store_mod.shutil, "disk_usage", lambda p: usage._replace(free=free))
    mm = open_signal_memmap(tmp_path / "fits.npy", 100_000, 8)  # exactly fits
    assert mm.shape == (100_000, 8)
    del mm
    with pytest.raises(DiskFullError, match=r"big\.npy: not enough free space: 3\.1 MiB"):
        open_signal_memmap(tmp_path / "big.npy", 100_001, 8)
    assert not (tmp_path / "big.npy").exists()


def test_memmap_blocks_are_reserved(tmp_path):
    mm = open_signal_memmap(tmp_path / "x.npy", 50_000, 4)
    del mm
    st = os.stat(tmp_path / "x.npy")
    # reserved, not sparse: a full disk cannot turn the later memmap writes into SIGBUS
    assert st.st_blocks * 512 >= st.st_size - 4096


def test_enospc_from_fallocate_is_named_and_nothing_left(tmp_path, monkeypatch):
    path = tmp_path / "store"
    _write(path, "101")

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod.os, "posix_fallocate", full)
    with pytest.raises(DiskFullError, match=r"store: signal file eeg\.npy: no space left"):
        with StoreWriter(path, dataset="test") as w:
            w.signal_file("S01", "1", "eeg", 1000, 4)
    assert Store(path).trials["trial"].tolist() == ["101"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store"]


def test_enospc_inside_the_block_is_named(tmp_path):
    with pytest.raises(DiskFullError, match=r"x\.csv; the partial import was removed and nothing"):
        with StoreWriter(tmp_path / "store", dataset="test"):
            raise OSError(errno.ENOSPC, "No space left on device", "/somewhere/x.csv")
    assert list(tmp_path.iterdir()) == []


def _die_on_two(i: int) -> int:
    if i == 2:  # as a worker killed by SIGBUS (full disk under a memmap) or the OOM killer
        os.kill(os.getpid(), signal.SIGKILL)
    return i


def test_killed_worker_is_a_named_error_not_a_traceback():
    from mmme.errors import MMMEError
    from mmme.executor import Executor

    with pytest.raises(MMMEError, match="import sessions: a worker process was killed"):
        Executor(n_jobs=2, progress=False).map(_die_on_two, range(4), desc="import sessions")


def test_signal_larger_than_the_real_free_space_is_refused_unwritten(tmp_path):
    free = store_mod.shutil.disk_usage(tmp_path).free
    n = free // (4 * 8) + 1  # float32 x 8 channels: one sample more than the disk holds
    with pytest.raises(DiskFullError, match=r"huge\.npy: not enough free space"):
        open_signal_memmap(tmp_path / "huge.npy", n, 8)
    assert list(tmp_path.iterdir()) == []
