"""One results layer for every stage after import: ``STORE/derived/<kind>/``.

A stage (face, physio, and later recognition, spotting ...) stores one *entry* per unit of work
under a key made of four things only: the stage's name, its parameters, the fingerprints of its
inputs and mmme's version (:func:`derived_key`). The same inputs and parameters give the same key,
so a re-run finds what an earlier run computed, and anything that changes gives a new key.

An entry is ``<key>.json`` (the record: stage, parameters, input fingerprints, what they were
computed from, the files with their size and SHA-256, the stage's own summary figures) plus
optional ``<key>.npz`` (arrays, read with ``allow_pickle=False``) and ``<key>.<table>.parquet``.
Every file is written atomically, the record last: an interrupted write leaves no entry, and a
damaged one (truncated, altered) fails its checksum and is computed again. Nothing is pickled.

A stage's summary tables (``<name>.parquet`` + ``<name>.table.json``, the keys they were built
from) sit next to the entries.

Because each entry records how its input fingerprints were taken (:class:`TrialInputs`), a
re-import can keep the entries whose inputs did not change (:func:`carry_over`).

Examples
--------
>>> res = store.derived("physio")                                   # doctest: +SKIP
>>> key = res.key(params, TrialInputs("S01", "1", "101", streams=True))  # doctest: +SKIP
>>> if not res.has(key):                                            # doctest: +SKIP
...     res.put(key, tables={"events": df}, meta={"n_events": len(df)})
>>> res.get(key).table("events")                                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmme._logging import logger
from mmme.errors import StoreError
from mmme.utils import atomic_path, write_json, write_parquet

if TYPE_CHECKING:
    from mmme.data.store import Store

FORMAT = "mmme-derived"
SCHEMA = 1
#: Hex characters of a key and of a fingerprint (128 bits).
KEY_CHARS = 32

_KIND = re.compile(r"^[a-z][a-z0-9_-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ENTRY = re.compile(rf"^([0-9a-f]{{{KEY_CHARS}}})\.json$")
_TABLE = re.compile(r"^([a-z][a-z0-9_]*)\.table\.json$")
_CHUNK_ROWS = 1 << 16


# --- the key scheme --------------------------------------------------------------------------
def canonical(obj: Any) -> Any:
    """``obj`` as plain JSON values, so equal parameters always serialise alike.

    Mappings get string keys, tuples become lists, NumPy scalars Python numbers, paths strings;
    a float with an integral value becomes an int (``20.0`` and ``20`` are one parameter) and a
    non-finite float the string ``"nan"``, ``"inf"`` or ``"-inf"``. Booleans stay booleans.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
        if x.is_integer() and abs(x) < 2**53:
            return int(x)
        return x
    if isinstance(obj, Mapping):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [canonical(v) for v in obj.tolist()]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise StoreError(f"cannot make a key of a {type(obj).__name__} ({obj!r})")


def canonical_json(obj: Any) -> str:
    """Compact, key-sorted, ASCII JSON of :func:`canonical` ``(obj)``: the text that is hashed."""
    return json.dumps(canonical(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def mmme_version() -> str:
    """This mmme's version (read at call time: ``mmme`` may still be importing this module)."""
    import mmme

    return str(mmme.__version__)


def derived_key(stage: str, params: Mapping[str, Any], inputs: Mapping[str, str],
                version: str | None = None) -> str:
    """The key of a stage's result: SHA-256 of its stage, parameters, inputs and mmme version.

    Parameters
    ----------
    stage : str
        The stage (``"face"``, ``"physio"``, ...).
    params : dict
        Every parameter that can change the result.
    inputs : dict of str
        Input name -> fingerprint (e.g. from :meth:`TrialInputs.fingerprints`).
    version : str | None
        mmme's version (default: this one), so a new release never reuses an older result.

    Returns
    -------
    str
        The first :data:`KEY_CHARS` hex digits of
        ``sha256(canonical_json({"inputs": ..., "params": ..., "stage": ..., "version": ...}))``.

    Examples
    --------
    >>> derived_key("physio", {"pad_s": 20.0}, {"trial": "S01/1/101"}, version="0.1.0")
    'fc07cc7e4be865c54287cf7a69f2b1a5'
    """
    blob = canonical_json({"stage": stage, "params": params, "inputs": inputs,
                           "version": mmme_version() if version is None else version})
    return hashlib.sha256(blob.encode("ascii")).hexdigest()[:KEY_CHARS]


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()[:KEY_CHARS]


# --- input fingerprints ----------------------------------------------------------------------
@dataclass(frozen=True)
class TrialInputs:
    """Which parts of one trial a stage reads, so their fingerprints can be taken again later.

    Parameters
    ----------
    subject, session, trial : str
        The trial.
    span : bool
        The trial's start and stop on the common clock.
    frames : bool
        The trial's frame table rows and, for every frame file, its size and modification time
        (frames stay files outside the store: a re-import does not touch them, an edit does).
    annotations : tuple of str
        Columns of the trial's annotation rows that the stage reads (``("*",)``: all).
    streams : bool
        Every signal stream of the session, over the span padded by ``pad_s`` (one more sample
        each side): the stream's description, its device's clock map and the samples' bytes.
    pad_s : float
        Padding of the stream window.
    """

    subject: str
    session: str
    trial: str
    span: bool = False
    frames: bool = False
    annotations: tuple[str, ...] = ()
    streams: bool = False
    pad_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"type": "trial", "subject": str(self.subject), "session": str(self.session),
                "trial": str(self.trial), "span": self.span, "frames": self.frames,
                "annotations": list(self.annotations), "streams": self.streams,
                "pad_s": float(self.pad_s)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrialInputs:
        if d.get("type") != "trial":
            raise StoreError(f"unknown input description {dict(d)!r}")
        return cls(str(d["subject"]), str(d["session"]), str(d["trial"]), bool(d["span"]),
                   bool(d["frames"]), tuple(d["annotations"]), bool(d["streams"]),
                   float(d["pad_s"]))

    def fingerprints(self, store: Store) -> dict[str, str]:
        """Input name -> fingerprint in ``store``.

        ``trial`` is ``subject/session/trial``; ``span``, ``frames``, ``annotations`` and
        ``stream:<name>`` (one per stream of the session) are hex digests, present as asked.

        Raises
        ------
        StoreError
            If the store has no such trial.
        """
        tr = store.trial(self.subject, self.session, self.trial)
        out = {"trial": f"{self.subject}/{self.session}/{self.trial}"}
        if self.span:
            out["span"] = _digest(canonical_json([tr.start_s, tr.stop_s]))
        if self.frames:
            out["frames"] = _frames_fingerprint(tr)
        if self.annotations:
            out["annotations"] = _annotations_fingerprint(tr.annotations, self.annotations)
        if self.streams:
            ses = tr.session
            for name in sorted(ses.meta.get("streams", {})):
                out[f"stream:{name}"] = _stream_fingerprint(
                    ses, name, tr.start_s - self.pad_s, tr.stop_s + self.pad_s)
        return out


def _frames_fingerprint(tr: Any) -> str:
    h = hashlib.sha256()
    frames = tr.frames
    for i, r in enumerate(frames.itertuples(index=False)):
        try:
            st = os.stat(tr.frame_path(i))
            stat = f"{st.st_size}\t{st.st_mtime_ns}"
        except OSError:
            stat = "missing"
        h.update(f"{r.frame}\t{float(r.device_time_s)!r}\t{float(r.time_s)!r}\t{r.stamp}\t"
                 f"{r.path}\t{stat}\n".encode())
    return h.hexdigest()[:KEY_CHARS]


def _annotations_fingerprint(ann: pd.DataFrame, columns: Sequence[str]) -> str:
    cols = list(ann.columns) if list(columns) == ["*"] else list(columns)
    missing = [c for c in cols if c not in ann.columns]
    if missing:
        raise StoreError(f"annotations have no column(s) {missing}")
    rows = [[None if _isna(v) else v for v in row] for row in
            ann[cols].astype(object).itertuples(index=False, name=None)]
    return _digest(canonical_json({"columns": cols, "rows": rows}))


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _stream_fingerprint(ses: Any, name: str, start_s: float, stop_s: float) -> str:
    meta = ses.meta["streams"][name]
    clock = ses.meta.get("clocks", {}).get(meta.get("device"), {})
    s = ses.streams[name]
    data = np.load(s.path, mmap_mode="r", allow_pickle=False)
    a = int(math.ceil(s.clock.to_device(start_s) * s.sfreq)) - 1
    b = int(math.ceil(s.clock.to_device(stop_s) * s.sfreq)) + 1
    a, b = max(0, a), min(len(data), b)
    b = max(a, b)
    head = canonical_json({"stream": meta, "clock": clock, "rows": [a, b],
                           "dtype": data.dtype.str, "shape": list(data.shape[1:])})
    h = hashlib.sha256(head.encode("ascii"))
    for i in range(a, b, _CHUNK_ROWS):
        h.update(np.ascontiguousarray(data[i : min(b, i + _CHUNK_ROWS)]).tobytes())
    return h.hexdigest()[:KEY_CHARS]


# --- keys and entries ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DerivedKey:
    """A key together with what it was made of (what :meth:`Derived.put` records)."""

    stage: str
    params: dict[str, Any]
    inputs: dict[str, str]
    spec: dict[str, Any] | None = None
    version: str = ""
    id: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.version:
            object.__setattr__(self, "version", mmme_version())
        object.__setattr__(self, "id", derived_key(self.stage, self.params, self.inputs,
                                                   self.version))

    def __str__(self) -> str:
        return self.id


class Entry:
    """One complete, intact result: its record, arrays and tables (read on first use)."""

    def __init__(self, root: Path, record: dict[str, Any]) -> None:
        self.root = root
        self.record = record
        self.key: str = record["key"]

    def __repr__(self) -> str:
        return f"<Entry {self.record.get('stage')} {self.key}: {sorted(self.record['files'])}>"

    @property
    def meta(self) -> dict[str, Any]:
        """The stage's own figures stored with the entry."""
        return self.record.get("meta", {})

    @property
    def params(self) -> dict[str, Any]:
        return self.record["params"]

    @property
    def inputs(self) -> dict[str, str]:
        return self.record["inputs"]

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """The entry's arrays (empty without any)."""
        if "npz" not in self.record["files"]:
            return {}
        path = self.root / f"{self.key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable ({exc})") from None

    def table(self, name: str) -> pd.DataFrame:
        """One of the entry's tables."""
        if f"{name}.parquet" not in self.record["files"]:
            raise StoreError(f"{self.root / self.key}: entry has no table {name!r} "
                             f"(has {self.tables})")
        path = self.root / f"{self.key}.{name}.parquet"
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable ({exc})") from None

    @property
    def tables(self) -> list[str]:
        return sorted(f[: -len(".parquet")] for f in self.record["files"] if f != "npz")


def _file_name(key: str, part: str) -> str:
    return f"{key}.npz" if part == "npz" else f"{key}.{part}"


def _checksum(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return path.stat().st_size, h.hexdigest()


class Derived:
    """The results of one stage in a store (``STORE/derived/<kind>``).

    Get one with :meth:`mmme.data.store.Store.derived`.

    Parameters
    ----------
    store : Store | str | Path
        The store (a bare path reads and writes entries, but cannot make keys).
    kind : str
        The stage (``"face"``, ``"physio"``, ...): lower case letters, digits, ``_`` and ``-``.
    """

    def __init__(self, store: Store | str | os.PathLike[str], kind: str) -> None:
        if not _KIND.match(kind):
            raise StoreError(f"bad derived kind {kind!r} (lower case letters, digits, _ and -)")
        self.store = None if isinstance(store, (str, os.PathLike)) else store
        self.kind = kind
        path = Path(store) if self.store is None else Path(self.store.path)  # type: ignore[arg-type]
        self.root = path / "derived" / kind

    def __repr__(self) -> str:
        return f"<Derived {self.root}>"

    # keys
    def key(self, params: Mapping[str, Any], inputs: TrialInputs | Mapping[str, str]
            ) -> DerivedKey:
        """The key of a result of this stage from ``params`` and its inputs.

        With :class:`TrialInputs`, the fingerprints are taken from the store now and the
        description is recorded, so a re-import can check them; with a plain mapping of
        fingerprints, the entry cannot be checked and a re-import drops it.
        """
        if isinstance(inputs, TrialInputs):
            if self.store is None:
                raise StoreError(f"{self.root}: opened by path, cannot take fingerprints")
            return DerivedKey(self.kind, canonical(params), inputs.fingerprints(self.store),
                              inputs.to_dict())
        return DerivedKey(self.kind, canonical(params), {str(k): str(v) for k, v in
                                                         inputs.items()})

    # entries
    def _record(self, key: DerivedKey | str) -> dict[str, Any] | None:
        k = str(key)
        path = self.root / f"{k}.json"
        try:
            rec = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            logger.warning("%s: damaged record (%s); the result will be computed again",
                           path, exc)
            return None
        if not (isinstance(rec, dict) and rec.get("format") == FORMAT and rec.get("key") == k
                and isinstance(rec.get("files"), dict)):
            return None
        return rec

    def _intact(self, rec: dict[str, Any]) -> bool:
        for part, (size, sha) in rec["files"].items():
            path = self.root / _file_name(rec["key"], part)
            try:
                ok = path.stat().st_size == size and _checksum(path)[1] == sha
            except OSError:
                ok = False
            if not ok:
                logger.warning("%s: missing or damaged (size/checksum); the result will be "
                               "computed again", path)
                return False
        return True

    def has(self, key: DerivedKey | str) -> bool:
        """Whether a complete, intact entry exists (every file's size and SHA-256 checked)."""
        rec = self._record(key)
        return rec is not None and self._intact(rec)

    def get(self, key: DerivedKey | str) -> Entry | None:
        """The entry, or ``None`` when absent, incomplete or damaged (then compute it again)."""
        rec = self._record(key)
        if rec is None or not self._intact(rec):
            return None
        return Entry(self.root, rec)

    def put(self, key: DerivedKey, *, arrays: Mapping[str, np.ndarray] | None = None,
            tables: Mapping[str, pd.DataFrame] | None = None,
            meta: Mapping[str, Any] | None = None) -> Entry:
        """Store a result: arrays and tables first, the record that completes it last.

        Parameters
        ----------
        key : DerivedKey
            From :meth:`key` (a plain string does not say what the result was made of).
        arrays : dict of ndarray
            Saved in ``<key>.npz``; object arrays are refused (they would need pickle).
        tables : dict of DataFrame
            Saved as ``<key>.<name>.parquet``.
        meta : dict
            JSON-ready figures of the stage (counts, rates ...), in the record.
        """
        if not isinstance(key, DerivedKey):
            raise StoreError("put() needs the DerivedKey from Derived.key(), not a string")
        if key.stage != self.kind:
            raise StoreError(f"a {key.stage!r} key cannot be stored in derived/{self.kind}")
        parts: list[tuple[str, Path]] = []
        if arrays:
            for name, a in arrays.items():
                if np.asarray(a).dtype.hasobject:
                    raise StoreError(f"derived/{self.kind} {key}: array {name!r} has object "
                                     "dtype (not storable without pickle)")
            path = self.root / f"{key}.npz"
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})
            parts.append(("npz", path))
        for name, df in (tables or {}).items():
            if not _NAME.match(name):
                raise StoreError(f"bad table name {name!r} (lower case letters, digits, _)")
            path = self.root / f"{key}.{name}.parquet"
            write_parquet(path, df)
            parts.append((f"{name}.parquet", path))
        files = {part: list(_checksum(p)) for part, p in parts}
        rec = {"format": FORMAT, "schema": SCHEMA, "key": key.id, "stage": key.stage,
               "version": key.version, "params": key.params, "inputs": key.inputs,
               "spec": key.spec, "files": files, "meta": dict(meta or {}),
               "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
        write_json(self.root / f"{key}.json", rec)
        return Entry(self.root, rec)

    def _records(self) -> Iterable[dict[str, Any]]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.iterdir()):
            m = _ENTRY.match(p.name)
            if m:
                rec = self._record(m.group(1))
                if rec is not None:
                    yield rec

    @property
    def index(self) -> pd.DataFrame:
        """Every complete entry (records read, checksums not): ``key, subject, session, trial,
        version, created, files`` (trial columns empty for entries not about one trial)."""
        rows = []
        for rec in self._records():
            spec = rec.get("spec") or {}
            rows.append({"key": rec["key"], "subject": spec.get("subject"),
                         "session": spec.get("session"), "trial": spec.get("trial"),
                         "version": rec.get("version"), "created": rec.get("created"),
                         "files": ",".join(sorted(rec["files"]))})
        return pd.DataFrame(rows, columns=["key", "subject", "session", "trial", "version",
                                           "created", "files"])

    # stage tables
    def write_table(self, name: str, df: pd.DataFrame, sources: Iterable[str]) -> None:
        """Write a stage table (``<name>.parquet``) built from the entries ``sources``.

        A re-import keeps the table only if it keeps every one of its sources.
        """
        if not _NAME.match(name):
            raise StoreError(f"bad table name {name!r} (lower case letters, digits, _)")
        write_parquet(self.root / f"{name}.parquet", df)
        write_json(self.root / f"{name}.table.json",
                   {"format": FORMAT, "table": name, "sources": sorted({str(s) for s in sources})})

    def table(self, name: str) -> pd.DataFrame:
        """A stage table, e.g. ``store.derived("physio").table("events")``.

        Raises
        ------
        StoreError
            If there is none (the stage has not run, or a re-import dropped it).
        """
        path = self.root / f"{name}.parquet"
        if not _NAME.match(name) or not path.is_file():
            raise StoreError(f"{path}: no such table (run the {self.kind} stage first)")
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable ({exc})") from None


# --- re-import -------------------------------------------------------------------------------
def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _stale_reason(rec: dict[str, Any], new: Store, memo: dict[str, Any]) -> str | None:
    if rec.get("version") != mmme_version():
        return f"made by mmme {rec.get('version')}"
    spec = rec.get("spec")
    if not spec:
        return "inputs cannot be checked"
    tag = canonical_json(spec)
    if tag not in memo:
        if "trials" not in memo:
            memo["trials"] = set(new.trial_keys())
        try:
            ti = TrialInputs.from_dict(spec)
            if (ti.subject, ti.session, ti.trial) not in memo["trials"]:
                memo[tag] = "trial no longer in the store"
            else:
                memo[tag] = ti.fingerprints(new)
        except (StoreError, KeyError, TypeError, ValueError) as exc:
            memo[tag] = f"inputs unreadable ({type(exc).__name__}: {exc})"
    now = memo[tag]
    if isinstance(now, str):
        return now
    old = rec.get("inputs", {})
    changed = sorted(k for k in set(old) | set(now) if old.get(k) != now.get(k))
    return f"{', '.join(changed)} changed" if changed else None


def carry_over(old_store: str | os.PathLike[str], new_store: str | os.PathLike[str]
               ) -> dict[str, Any]:
    """Bring the derived results of ``old_store`` whose inputs are unchanged into ``new_store``.

    Each entry's input fingerprints are taken again in the new store from the description its
    record keeps; an entry is kept (hard-linked, or copied) when they all match, its version is
    this mmme's and its files are intact. A stage table is kept when all its sources are.

    Returns
    -------
    dict
        ``kept`` (count), ``dropped`` (``kind, key, trial, reason`` of each dropped entry),
        ``tables_kept`` and ``tables_dropped`` (``kind/name``), ``files_dropped`` (count of every
    old file not carried, entries' files included).
    """
    from mmme.data.store import Store

    old_root, new_root = Path(old_store), Path(new_store)
    new = Store(new_root)
    report: dict[str, Any] = {"kept": 0, "dropped": [], "tables_kept": [], "tables_dropped": [],
                              "files_dropped": 0}
    memo: dict[str, Any] = {}
    base = old_root / "derived"
    for kind_dir in sorted(base.iterdir()) if base.is_dir() else []:
        if not (kind_dir.is_dir() and _KIND.match(kind_dir.name)):
            continue
        kind = kind_dir.name
        old = Derived(old_root, kind)
        dest = new_root / "derived" / kind
        kept: set[str] = set()
        for rec in old._records():
            reason = _stale_reason(rec, new, memo)
            if reason is None and not old._intact(rec):
                reason = "damaged"
            if reason is not None:
                spec = rec.get("spec") or {}
                trial = "/".join(str(spec[k]) for k in ("subject", "session", "trial")
                                 if k in spec)
                report["dropped"].append({"kind": kind, "key": rec["key"], "trial": trial,
                                          "reason": reason})
                continue
            for part in rec["files"]:
                name = _file_name(rec["key"], part)
                _link(kind_dir / name, dest / name)
            _link(kind_dir / f"{rec['key']}.json", dest / f"{rec['key']}.json")
            kept.add(rec["key"])
            report["kept"] += 1
        for p in sorted(kind_dir.iterdir()):
            m = _TABLE.match(p.name)
            if not m:
                continue
            try:
                sources = set(json.loads(p.read_text())["sources"])
            except (OSError, ValueError, KeyError, TypeError):
                sources = None
            table = kind_dir / f"{m.group(1)}.parquet"
            if sources is not None and sources <= kept and table.is_file():
                _link(table, dest / table.name)
                _link(p, dest / p.name)
                report["tables_kept"].append(f"{kind}/{m.group(1)}")
            else:
                report["tables_dropped"].append(f"{kind}/{m.group(1)}")
        # anything else: unfinished writes, caches of an older mmme
        report["files_dropped"] += sum(1 for p in kind_dir.iterdir()
                                       if p.is_file() and not (dest / p.name).exists())
    return report


def summary_line(report: Mapping[str, Any], limit: int = 10) -> str:
    """``kept N, dropped M stale derived result(s): <kind> <trial> (<reason>); ...``, naming
    at most ``limit`` (the rest are in ``import_report.json``)."""
    dropped = report.get("dropped", [])
    line = f"kept {report.get('kept', 0)}, dropped {len(dropped)} stale derived result(s)"
    if dropped:
        line += ": " + "; ".join(f"{d['kind']} {d['trial'] or d['key']} ({d['reason']})"
                                 for d in dropped[:limit])
        if len(dropped) > limit:
            line += f"; and {len(dropped) - limit} more (see import_report.json)"
    return line
