"""The CLI over a table of bad inputs: one line naming the file, exit status != 0, no traceback.

Each case is a function registered with ``@case(...)``: it gets a :class:`Env` (a fresh copy of
a small imported store, its raw folder, ``tmp``, ``monkeypatch``), damages or prepares what it
needs, and returns a :class:`Bad`: the command line, the file the error must name, and what a
good outcome also needs. To add a case, write one more decorated function.

Commands that fail print one line ``error: ...`` on stderr (exit 2); ``mmme validate`` lists
each problem on its own line (``ERROR kind: file: what``) and exits 1.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from raw_builder import build_raw
from typer.testing import CliRunner

import mmme.data.store as store_mod
from mmme.cli import app
from mmme.data.store import Store, StoreLock
from mmme.executor import Executor
from mmme.io.mmme import import_mmme

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Env:
    tmp: Path
    raw: Path  # the raw MMME folder the store was imported from (shared, do not damage)
    store: Path  # a fresh copy of the imported store, free to damage
    monkeypatch: pytest.MonkeyPatch

    def session(self) -> Path:
        return self.store / "sessions" / "S01" / "1"


@dataclass
class Bad:
    args: list[str]
    #: the file (or folder) the error line must name; None: no error expected
    names: Path | str | None
    #: expected exit status; None: any non-zero
    exit_code: int | None = None
    #: a regex the error line must also match
    match: str | None = None
    #: further checks after the run (the store kept, temporaries removed, ...)
    after: Callable[[], None] | None = None
    #: extra: more lines allowed besides the named one (``validate`` lists every problem)
    validate: bool = field(default=False)


CASES: dict[str, Callable[[Env], Bad]] = {}


def case(name: str) -> Callable[[Callable[[Env], Bad]], Callable[[Env], Bad]]:
    def register(fn: Callable[[Env], Bad]) -> Callable[[Env], Bad]:
        assert name not in CASES, name
        CASES[name] = fn
        return fn

    return register


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _deny_writes_under(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` read-only: chmod, and (root ignores modes) refuse creation under it."""
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return
    real_mkdir, real_open = os.mkdir, os.open
    inside = str(folder.absolute()) + os.sep
    creating = os.O_CREAT | os.O_WRONLY | os.O_RDWR

    def denied(path: object) -> bool:
        return str(Path(os.fsdecode(path)).absolute()).startswith(inside)  # type: ignore[arg-type]

    def mkdir(path, *a, **kw):  # noqa: ANN001, ANN202
        if denied(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_mkdir(path, *a, **kw)

    def open_(path, flags, *a, **kw):  # noqa: ANN001, ANN202
        if flags & creating and denied(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


# --- a damaged store: `info` and `validate` name the file -----------------------------------

DAMAGE: dict[str, Callable[[Env], Path]] = {
    "store_json_not_json": lambda e: _write(e.store / "store.json", "{not json"),
    "session_json_not_json": lambda e: _write(e.session() / "session.json", '{"subject": '),
    "annotations_truncated": lambda e: _cut(e.store / "annotations.parquet"),
    "trials_truncated": lambda e: _cut(e.store / "trials.parquet"),
    "frames_table_truncated": lambda e: _cut(e.session() / "video" / "frames.parquet"),
    "npy_deleted": lambda e: _rm(e.session() / "signals" / "eeg.npy"),
    "npy_truncated": lambda e: _cut(e.session() / "signals" / "physio.npy", 0.9),
}
#: damage only `validate` sees (`info` does not read these files)
DAMAGE_VALIDATE_ONLY: dict[str, Callable[[Env], Path]] = {
    "markers_truncated": lambda e: _cut(e.session() / "markers.parquet"),
    "report_not_json": lambda e: _write(e.store / "import_report.json", "\xff\xfe"),
    "frame_file_missing": lambda e: _frame_gone(e),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _cut(path: Path, keep: float = 0.5) -> Path:
    _truncate(path, keep)
    return path


def _rm(path: Path) -> Path:
    path.unlink()
    return path


def _frame_gone(e: Env) -> Path:
    # the raw folder is shared: point this store's frames at a copy and delete one frame there
    frames = e.tmp / "frames_copy"
    shutil.copytree(e.raw, frames)
    meta = store_mod.read_store_json(e.session() / "session.json")
    meta["video"]["frames_root"] = str(frames)
    store_mod.write_json(e.session() / "session.json", meta)
    first = Store(e.store).session("S01").frames.table["path"].iloc[0]
    (frames / first).unlink()
    return e.session() / "video" / "frames.parquet"


def _damage_case(cmd: str, damage: Callable[[Env], Path]) -> Callable[[Env], Bad]:
    def prepare(e: Env) -> Bad:
        bad_file = damage(e)
        if cmd == "validate":
            return Bad(["validate", str(e.store)], bad_file, exit_code=1, validate=True)
        return Bad([cmd, str(e.store)], bad_file, exit_code=2)

    return prepare


for _name, _damage in DAMAGE.items():
    case(f"info-{_name}")(_damage_case("info", _damage))
    case(f"validate-{_name}")(_damage_case("validate", _damage))
for _name, _damage in DAMAGE_VALIDATE_ONLY.items():
    case(f"validate-{_name}")(_damage_case("validate", _damage))


@case("validate-store_json_deleted")
def _store_json_deleted(e: Env) -> Bad:
    (e.store / "store.json").unlink()
    return Bad(["validate", str(e.store)], e.store / "store.json", exit_code=1, validate=True)


# --- a read-only output folder ---------------------------------------------------------------


@case("import-into-read-only-folder")
def _import_read_only(e: Env) -> Bad:
    ro = e.tmp / "ro"
    ro.mkdir()
    _deny_writes_under(e.monkeypatch, ro)
    return Bad(["import", "mmme", str(e.raw), str(ro / "store"), "-j", "1"], ro,
               match="Permission denied")


@case("synth-into-read-only-folder")
def _synth_read_only(e: Env) -> Bad:
    ro = e.tmp / "ro"
    ro.mkdir()
    _deny_writes_under(e.monkeypatch, ro)
    out = ro / "raw"
    args = ["synth", str(out), "--subjects", "1", "--trials-per-subject", "1", "--size", "64x64",
            "--trial-s", "2", "-j", "1"]
    return Bad(args, out, match="Permission denied")


# --- killed imports, a locked store ----------------------------------------------------------


@case("import-removes-stale-temporaries")
def _stale_temporaries(e: Env) -> Bad:
    pid = _dead_pid()
    tmp_dir = e.store.with_name(f".{e.store.name}.tmp-{pid}")
    (tmp_dir / "sessions").mkdir(parents=True)
    old_dir = e.store.with_name(f".{e.store.name}.old-{pid}")
    shutil.copytree(e.store, old_dir)  # a swap killed after the new store was in place
    live = e.store.with_name(f".{e.store.name}.tmp-{os.getppid()}")  # a live writer's: kept
    live.mkdir()

    def after() -> None:
        assert not tmp_dir.exists() and not old_dir.exists()
        assert live.exists()
        assert Store(e.store).trials["trial"].tolist() == ["101", "112", "125"]

    return Bad(["import", "mmme", str(e.raw), str(e.store), "-j", "1"], None, exit_code=0,
               after=after)


@case("info-restores-store-orphaned-in-swap")
def _orphaned_store(e: Env) -> Bad:
    old_dir = e.store.with_name(f".{e.store.name}.old-{_dead_pid()}")
    os.replace(e.store, old_dir)

    def after() -> None:
        assert not old_dir.exists()
        assert Store(e.store).trials["trial"].tolist() == ["101", "112", "125"]

    return Bad(["info", str(e.store), "--json"], None, exit_code=0, after=after)


@case("import-into-locked-store")
def _locked(e: Env) -> Bad:
    lock = StoreLock(e.store)
    lock.acquire()
    before = sorted(p.relative_to(e.store) for p in e.store.rglob("*"))

    def after() -> None:
        lock.release()
        assert sorted(p.relative_to(e.store) for p in e.store.rglob("*")) == before

    return Bad(["import", "mmme", str(e.raw), str(e.store), "-j", "1"], e.store,
               match=rf"another import \(PID {os.getpid()}\)", after=after)


# --- a full disk -----------------------------------------------------------------------------


def _store_kept(e: Env) -> Callable[[], None]:
    before = {p.relative_to(e.store): p.stat().st_mtime_ns for p in e.store.rglob("*")}

    def after() -> None:
        assert {p.relative_to(e.store): p.stat().st_mtime_ns for p in e.store.rglob("*")} == before
        assert _listing(e.store.parent) == ["store"]  # no temporary, no lock file left

    return after


@case("import-generic-disk-too-small")
def _disk_too_small(e: Env) -> Bad:
    usage = shutil.disk_usage(e.tmp)
    e.monkeypatch.setattr(store_mod.shutil, "disk_usage",
                          lambda p: usage._replace(free=2 * 2**20))
    edf = e.raw / "S01" / "eeg" / "S01.edf"
    return Bad(["import", "generic", str(edf), str(e.store)], e.store,
               match=r"s01\.npy: not enough free space.*2\.0 MiB free.*previous store is unchanged",
               after=_store_kept(e))


@case("import-generic-fallocate-enospc")
def _fallocate_enospc(e: Env) -> Bad:
    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    e.monkeypatch.setattr(store_mod.os, "posix_fallocate", full)
    edf = e.raw / "S01" / "eeg" / "S01.edf"
    return Bad(["import", "generic", str(edf), str(e.store)], e.store,
               match=r"s01\.npy: no space left on the device", after=_store_kept(e))


@case("import-mmme-enospc-while-writing")
def _enospc_write(e: Env) -> Bad:
    real = store_mod.write_parquet

    def full(path, *a, **kw):  # noqa: ANN001, ANN202
        if Path(path).name == "trials.parquet":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *a, **kw)

    e.monkeypatch.setattr(store_mod, "write_parquet", full)
    return Bad(["import", "mmme", str(e.raw), str(e.store), "-j", "1"], e.store,
               match="no space left.*trials.parquet.*previous store is unchanged",
               after=_store_kept(e))


# --- the runner ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bad_inputs")
    raw = build_raw(base / "raw")["root"]
    store = base / "store"
    import_mmme(raw, store, executor=Executor(n_jobs=1, progress=False))
    return raw, store


@pytest.fixture
def env(
    imported: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    raw, pristine = imported
    store = tmp_path / "cases" / "store"
    shutil.copytree(pristine, store)
    yield Env(tmp_path, raw, store, monkeypatch)
    ro = tmp_path / "ro"
    if ro.exists():  # writable again, so that pytest can clean up
        ro.chmod(0o755)


def _check(bad: Bad, code: int, stdout: str, stderr: str) -> None:
    both = stdout + stderr
    assert "Traceback" not in both, both
    if bad.exit_code is not None:
        assert code == bad.exit_code, both
    else:
        assert code != 0, both
    if bad.names is None:
        return
    named = str(bad.names)
    if bad.validate:
        lines = [ln for ln in stdout.splitlines() if ln.startswith("ERROR") and named in ln]
        assert len(lines) >= 1, stdout
    else:
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, stderr  # one line, whatever the terminal width
        assert lines[0].startswith("error: ") and named in lines[0], stderr
    if bad.match:
        assert re.search(bad.match, lines[0]), lines[0]


@pytest.mark.parametrize("name", list(CASES))
def test_cli_bad_input(name: str, env: Env) -> None:
    bad = CASES[name](env)
    r = CliRunner().invoke(app, bad.args)
    # an exception the CLI let through is a traceback for the user
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    _check(bad, r.exit_code, r.stdout, r.stderr)
    if bad.after is not None:
        bad.after()


def test_real_entry_point_prints_one_line(env: Env) -> None:
    """``python -m mmme`` (the console script's code path): no traceback either."""
    bad = CASES["info-session_json_not_json"](env)
    r = subprocess.run(
        [sys.executable, "-m", "mmme", *bad.args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "40"},
        timeout=120,
    )
    _check(bad, r.returncode, r.stdout, r.stderr)
