"""The on-disk store: sessions of synchronized streams plus the annotation table.

Format in ``docs/format.md``. Reading is lazy (signals are memory-mapped, frames read one by one);
writing goes through :class:`StoreWriter`, which builds a complete store in a temporary sibling
directory and swaps it in at :meth:`StoreWriter.commit`, so a failed import leaves the previous
store intact.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmme._logging import logger
from mmme.data.annotations import ANNOTATION_COLUMNS, make_annotations
from mmme.data.streams import FrameTable, SignalStream, read_image
from mmme.data.sync import ClockMap
from mmme.errors import DiskFullError, StoreError, StoreFileError, StoreLockedError
from mmme.utils import read_json, write_json, write_parquet

if TYPE_CHECKING:
    import mne

    from mmme.data.derived import Derived

FORMAT = "mmme-store"
VERSION = 1

TRIAL_COLUMNS = {
    "subject": "string",
    "session": "string",
    "trial": "string",
    "marker": "Int64",
    "category": "string",
    "start_s": "float64",
    "stop_s": "float64",
    "n_frames": "Int64",
    "video_start_s": "float64",
}

FRAME_COLUMNS = ("trial", "frame", "device_time_s", "time_s", "stamp", "path")
FRAME_ROW_GROUP = 4096


def is_store(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an mmme store directory."""
    return (Path(path) / "store.json").is_file()


class Store:
    """An mmme store, opened read-only and lazily.

    Parameters
    ----------
    path : str | Path
        The store directory.

    Raises
    ------
    StoreError
        If the directory is not a store or has an unknown format version.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        meta_path = self.path / "store.json"
        if not meta_path.is_file() and not recover_store(self.path):
            raise StoreError(f"{self.path} is not an mmme store (no store.json)")
        self.meta: dict[str, Any] = read_store_json(meta_path)
        if not isinstance(self.meta.get("sessions", []), list):
            raise StoreFileError(meta_path, "'sessions' is not a list")
        if self.meta.get("format") != FORMAT or self.meta.get("version") != VERSION:
            raise StoreError(
                f"{meta_path}: unknown store format {self.meta.get('format')!r} "
                f"version {self.meta.get('version')!r} (this mmme reads {FORMAT} v{VERSION})"
            )

    def __repr__(self) -> str:
        return f"<Store {self.path}: {len(self.sessions)} sessions, {len(self.annotations)} events>"

    @cached_property
    def annotations(self) -> pd.DataFrame:
        """All expression events (columns of :data:`ANNOTATION_COLUMNS`)."""
        path = self.path / "annotations.parquet"
        if not path.exists():
            return make_annotations([])
        return make_annotations(read_store_parquet(path))

    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per trial (columns of :data:`TRIAL_COLUMNS`)."""
        path = self.path / "trials.parquet"
        if not path.exists():
            return _typed(pd.DataFrame(columns=list(TRIAL_COLUMNS)), TRIAL_COLUMNS)
        return _typed(read_store_parquet(path), TRIAL_COLUMNS)

    @property
    def sessions(self) -> list[tuple[str, str]]:
        """``(subject, session)`` of every session."""
        try:
            return [(s["subject"], s["session"]) for s in self.meta.get("sessions", [])]
        except (KeyError, TypeError):
            raise StoreFileError(
                self.path / "store.json", "a 'sessions' entry lacks subject or session"
            ) from None

    @property
    def report(self) -> dict[str, Any]:
        """The import report (quirks fixed, rows skipped)."""
        path = self.path / "import_report.json"
        return read_store_json(path) if path.exists() else {}

    def session(self, subject: str, session: str = "1") -> Session:
        """Open one session."""
        d = self.path / "sessions" / str(subject) / str(session)
        if not (d / "session.json").is_file():
            raise StoreError(f"{self.path}: no session {subject}/{session}")
        return Session(self, d)

    def trial(self, subject: str, session: str, trial: str) -> Trial:
        """A view of one trial: its span, annotations, frames and signals."""
        return self.session(subject, session).trial(trial)

    def iter_trials(self) -> Iterable[Trial]:
        """Every trial of the store, session by session."""
        for subject, session in self.sessions:
            ses = self.session(subject, session)
            for trial in ses.trials["trial"]:
                yield ses.trial(trial)

    def trial_keys(self, with_video: bool = False) -> list[tuple[str, str, str]]:
        """``(subject, session, trial)`` of every trial (only those with frames if asked): the
        job list of the per-trial stages."""
        t = self.trials
        if with_video:
            t = t[t["n_frames"].fillna(0) > 0]
        return [(str(r.subject), str(r.session), str(r.trial)) for r in t.itertuples()]

    def cache_dir(self, kind: str) -> Path:
        """Directory for a later stage's cache (``derived/<kind>``), created."""
        d = self.path / "derived" / kind
        d.mkdir(parents=True, exist_ok=True)
        return d

    def derived(self, kind: str) -> Derived:
        """The results of a later stage (``derived/<kind>``): ``.has/.get/.put(key)``,
        ``.index``, ``.table(name)``; see :mod:`mmme.data.derived`."""
        from mmme.data.derived import Derived

        return Derived(self, kind)


class Session:
    """One recording session: device clocks, markers, signal streams and video frames.

    Open with :meth:`Store.session`. Times are on the session's common clock.

    Examples
    --------
    >>> ses = mmme.read_store("store").session("S01")                 # doctest: +SKIP
    >>> ses.clocks["physio"].offset, ses.clocks["physio"].drift_ppm
    >>> raw = ses.streams["eeg"].to_mne(600.0, 660.0)
    >>> ep = ses.epochs("physio", [612.5, 640.1], tmin=-1.0, tmax=3.0)
    """

    def __init__(self, store: Store, path: Path) -> None:
        self.store = store
        self.path = path
        self.meta: dict[str, Any] = read_store_json(path / "session.json")
        try:
            self.subject: str = self.meta["subject"]
            self.session: str = self.meta["session"]
        except KeyError as exc:
            raise StoreFileError(path / "session.json", f"no {exc.args[0]!r} entry") from None

    def __repr__(self) -> str:
        return f"<Session {self.subject}/{self.session}: streams {sorted(self.streams)}>"

    @cached_property
    def clocks(self) -> dict[str, ClockMap]:
        """Device -> clock map onto the common clock."""
        try:
            return {k: ClockMap.from_dict(v) for k, v in self.meta.get("clocks", {}).items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise StoreFileError(self.path / "session.json", f"bad clock entry ({exc})") from None

    @property
    def reference(self) -> str:
        """The device whose clock is the common clock."""
        return str(self.meta.get("reference", ""))

    @cached_property
    def markers(self) -> pd.DataFrame:
        """Markers of every device: ``device, code, device_time_s, time_s``."""
        return read_store_parquet(self.path / "markers.parquet")

    @cached_property
    def streams(self) -> dict[str, SignalStream]:
        """Signal streams by name (``"eeg"``, ``"physio"``)."""
        out = {}
        for name, m in self.meta.get("streams", {}).items():
            try:
                path = self.path / "signals" / f"{name}.npy"
                check_npy(path, len(m["ch_names"]))
                out[name] = SignalStream(
                    path,
                    m["ch_names"],
                    m["units"],
                    m["sfreq"],
                    self.clocks[m["device"]],
                    m["device"],
                    m.get("kind", name),
                )
            except (KeyError, TypeError) as exc:
                raise StoreFileError(
                    self.path / "session.json", f"stream {name!r}: bad or missing entry {exc}"
                ) from None
        return out

    def stream(self, name: str) -> SignalStream:
        """One signal stream by name; an unknown name is an error listing the session's."""
        if name not in self.streams:
            raise StoreError(
                f"session {self.subject}/{self.session} has no stream {name!r} "
                f"(has {sorted(self.streams)})"
            )
        return self.streams[name]

    def epochs(
        self,
        stream: str,
        times_s: Sequence[float] | np.ndarray,
        tmin: float,
        tmax: float,
        picks: Sequence[str] | str | None = None,
        metadata: pd.DataFrame | None = None,
        on_edge: str = "nan",
        baseline: tuple[float | None, float | None] | None = None,
        verbose: bool | str | int | None = None,
    ) -> mne.EpochsArray:
        """Epochs of one stream around common-clock times, offset and drift applied.

        Reads only the windows. See :meth:`mmme.data.SignalStream.epochs` for the sample rule
        (the same samples as ``mne.Epochs`` on :meth:`~mmme.data.SignalStream.to_mne`'s Raw).

        Parameters
        ----------
        stream : str
            ``"eeg"``, ``"physio"``, ... (see :attr:`streams`).
        times_s : array-like of float
            Event times on the common clock, e.g. ``annotations["onset_s"]``.
        tmin, tmax : float
            Window around each event, seconds.
        picks : str | list of str | None
            Channel names (``None``: all).
        metadata : pandas.DataFrame | None
            One row per event, kept aligned with the epochs.
        on_edge : {"nan", "drop"}
            A window past the recording is NaN there (``"nan"``, rows never dropped) or
            dropped (``"drop"``).
        baseline : tuple | None
            MNE baseline (default none).
        verbose : bool | str | int | None
            Log level for this call.

        Returns
        -------
        mne.EpochsArray
            EEG with its 10-05 montage; ``metadata`` carries ``time_s``.

        Examples
        --------
        >>> ses = mmme.read_store("store").session("S01")           # doctest: +SKIP
        >>> ann = ses.store.annotations.query("subject == 'S01'")
        >>> ep = ses.epochs("eeg", ann["onset_s"], -0.5, 1.5, metadata=ann)
        """
        return self.stream(stream).epochs(
            times_s, tmin, tmax, picks=picks, metadata=metadata, on_edge=on_edge,
            baseline=baseline, verbose=verbose,
        )

    def stream_of(self, channel: str) -> SignalStream:
        """The stream that holds a channel."""
        for s in self.streams.values():
            if channel in s.ch_names:
                return s
        raise StoreError(f"session {self.subject}/{self.session} has no channel {channel!r}")

    @cached_property
    def frames(self) -> FrameTable | None:
        """The video frames, or ``None`` without video."""
        video = self.meta.get("video")
        if not video:
            return None
        try:
            root = Path(video["frames_root"])
        except (KeyError, TypeError):
            raise StoreFileError(
                self.path / "session.json", "video entry lacks frames_root"
            ) from None
        if not root.is_absolute():
            root = self.path / root
        table = self.path / "video" / "frames.parquet"
        parquet_rows(table)  # a missing or truncated table is named now, not deep in a stage
        return FrameTable(table, root, video.get("fps"))

    @cached_property
    def trials(self) -> pd.DataFrame:
        t = self.store.trials
        return t[(t["subject"] == self.subject) & (t["session"] == self.session)].reset_index(
            drop=True
        )

    def trial(self, trial: str) -> Trial:
        rows = self.trials[self.trials["trial"] == str(trial)]
        if rows.empty:
            raise StoreError(f"session {self.subject}/{self.session} has no trial {trial!r}")
        return Trial(self, rows.iloc[0])


class Trial:
    """The span of one stimulus clip within a session.

    Examples
    --------
    >>> tr = mmme.read_store("store").trial("S01", "1", "101")         # doctest: +SKIP
    >>> tr.start_s, tr.stop_s, len(tr.annotations)
    >>> data, times = tr.signal("physio", picks="EDA", pad_s=5.0)
    >>> first = tr.read_frame(0, gray=True)
    """

    def __init__(self, session: Session, row: pd.Series) -> None:
        self.session = session
        self.row = row
        self.subject: str = session.subject
        self.trial: str = str(row["trial"])
        self.marker = None if pd.isna(row["marker"]) else int(row["marker"])
        self.category = None if pd.isna(row["category"]) else str(row["category"])
        self.start_s = float(row["start_s"])
        self.stop_s = float(row["stop_s"])

    def __repr__(self) -> str:
        return (
            f"<Trial {self.subject}/{self.session.session}/{self.trial}: "
            f"{self.start_s:.2f}-{self.stop_s:.2f} s, {len(self.frames)} frames>"
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.session.session, self.trial)

    @cached_property
    def annotations(self) -> pd.DataFrame:
        a = self.session.store.annotations
        mask = (
            (a["subject"] == self.subject)
            & (a["session"] == self.session.session)
            & (a["trial"] == self.trial)
        )
        return a[mask].reset_index(drop=True)

    @cached_property
    def frames(self) -> pd.DataFrame:
        """Frames of this trial (empty without video)."""
        ft = self.session.frames
        if ft is None:
            return pd.DataFrame(columns=list(FRAME_COLUMNS))
        return ft.trial(self.trial).reset_index(drop=True)

    def frame_path(self, i: int) -> Path:
        ft = self.session.frames
        if ft is None:
            raise StoreError(f"trial {self.key} has no video")
        return ft.path(self.frames["path"].iloc[i])

    def read_frame(self, i: int, gray: bool = False) -> np.ndarray:
        """Frame ``i`` of the trial as a BGR (or gray) uint8 image."""
        return read_image(self.frame_path(i), gray=gray)

    def iter_frames(self, gray: bool = False) -> Iterable[np.ndarray]:
        """Frames one by one, never all in memory."""
        for i in range(len(self.frames)):
            yield self.read_frame(i, gray=gray)

    def signal(
        self,
        stream: str,
        picks: Sequence[str] | str | None = None,
        pad_s: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(data, times)`` of a stream over the trial span, padded by ``pad_s`` each side."""
        s = self.session.streams[stream]
        return s.get_data(self.start_s - pad_s, self.stop_s + pad_s, picks)


def _typed(df: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    for col, dtype in schema.items():
        if col not in df.columns:
            df[col] = pd.NA
        if dtype == "float64":
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        elif dtype == "Int64":
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
        else:
            df[col] = df[col].astype("string")
    return df[list(schema)].reset_index(drop=True)


class StoreWriter:
    """Build a store in a temporary directory; swap it in atomically at :meth:`commit`.

    Use as a context manager: leaving the block with an exception removes the temporary
    directory and leaves any existing store at ``path`` untouched. Entering takes the store's
    lock (``.STORE.lock``, next to it, naming the holder's PID): a second writer of the same
    store waits up to ``wait_s`` and then refuses with :class:`StoreLockedError`. Holding the
    lock, it removes what killed writers left behind (``.STORE.tmp-PID`` and the like, their PID
    dead) and puts back a previous store orphaned by a kill inside the commit swap. A full disk
    ends in :class:`DiskFullError` with the temporary removed.

    Parameters
    ----------
    path : str | Path
        Where the store will be.
    dataset : str
        Name of the data set (``"mmme"``, ``"casme-ii"``, ...).
    source : str
        What was imported (a path), recorded in ``store.json``.
    wait_s : float
        How long to wait for another writer of the same store before refusing.
    """

    def __init__(
        self, path: str | os.PathLike[str], dataset: str, source: str = "", wait_s: float = 0.0
    ) -> None:
        self.path = Path(path).absolute()
        if self.path.exists() and not is_store(self.path):
            if not self.path.is_dir():
                raise StoreError(f"{self.path} is a file, not an mmme store; refusing to use it")
            if any(self.path.iterdir()):
                raise StoreError(
                    f"{self.path} exists and is not an mmme store; refusing to replace it"
                )
        self.dataset = dataset
        self.source = source
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self._lock = StoreLock(self.path)
        self.wait_s = wait_s
        self._sessions: list[dict[str, str]] = []
        self._trials: list[dict[str, Any]] = []
        self._annotations: list[pd.DataFrame] = []
        self.report: dict[str, Any] = {"quirks": [], "skipped": [], "sync": []}

    def __enter__(self) -> StoreWriter:
        self._lock.acquire(self.wait_s)
        try:
            clean_stale(self.path)
            if self.tmp.exists():
                shutil.rmtree(self.tmp)
            self.tmp.mkdir(parents=True)
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        try:
            if exc_type is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                if _disk_full(exc) or isinstance(exc, DiskFullError):
                    raise self._disk_full(exc) from exc
            elif self.tmp.exists():
                try:
                    self.commit()
                except BaseException as failed:  # a failed final write must not leave the temp
                    shutil.rmtree(self.tmp, ignore_errors=True)
                    if _disk_full(failed):
                        raise self._disk_full(failed) from failed
                    raise
        finally:
            self._lock.release()

    def _disk_full(self, exc: BaseException) -> DiskFullError:
        kept = "the previous store is unchanged" if is_store(self.path) else "nothing was written"
        if isinstance(exc, DiskFullError):  # a space check: its message says what and how much
            what = str(exc)
        else:
            name = getattr(exc, "filename", None)
            what = f"no space left on the device while writing {Path(name).name if name else 'it'}"
        return DiskFullError(f"{self.path}: {what}; the partial import was removed and {kept}")

    def session_dir(self, subject: str, session: str) -> Path:
        d = self.tmp / "sessions" / str(subject) / str(session)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def signal_file(
        self, subject: str, session: str, name: str, n_samples: int, n_channels: int
    ) -> np.ndarray:
        """A writable float32 memmap ``(n_samples, n_channels)`` for a stream, filled by chunks."""
        d = self.session_dir(subject, session) / "signals"
        d.mkdir(exist_ok=True)
        return open_signal_memmap(d / f"{name}.npy", n_samples, n_channels)

    def add_session(
        self,
        subject: str,
        session: str,
        *,
        clocks: dict[str, ClockMap],
        reference: str,
        markers: pd.DataFrame,
        streams: dict[str, dict[str, Any]],
        frames: pd.DataFrame | None = None,
        video: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record a session whose signal files were written with :meth:`signal_file`.

        ``streams[name]`` holds ``ch_names, units, sfreq, device, kind``.
        """
        d = self.session_dir(subject, session)
        for name in streams:
            if not (d / "signals" / f"{name}.npy").exists():
                raise StoreError(f"stream {name!r} of {subject}/{session} was never written")
        meta = {
            "subject": str(subject),
            "session": str(session),
            "reference": reference,
            "clocks": {k: v.to_dict() for k, v in clocks.items()},
            "streams": streams,
            "video": video,
            **(extra or {}),
        }
        write_json(d / "session.json", meta)
        write_parquet(d / "markers.parquet", markers.reset_index(drop=True))
        if frames is not None:
            (d / "video").mkdir(exist_ok=True)
            table = frames[list(FRAME_COLUMNS)].copy()
            table["trial"] = table["trial"].astype(str)
            table = table.sort_values(["trial", "frame"], kind="stable")
            # small row groups: reading one trial touches only its own groups
            write_parquet(d / "video" / "frames.parquet", table, row_group_size=FRAME_ROW_GROUP)
        self._sessions.append({"subject": str(subject), "session": str(session)})

    def add_trials(self, rows: Iterable[dict[str, Any]]) -> None:
        self._trials.extend(rows)

    def add_annotations(self, df: pd.DataFrame) -> None:
        self._annotations.append(df)

    def _carry_derived(self) -> None:
        """Keep the old store's derived results whose inputs are unchanged; drop the rest and
        say which (``report["derived"]`` in ``import_report.json``, and the log)."""
        if not (is_store(self.path) and (self.path / "derived").is_dir()):
            return
        from mmme._logging import logger
        from mmme.data.derived import carry_over, summary_line

        self.report["derived"] = carry_over(self.path, self.tmp)
        write_json(self.tmp / "import_report.json", self.report)
        logger.info("%s", summary_line(self.report["derived"]))

    def commit(self) -> Store:
        """Write the tables and swap the new store into place."""
        ann = (
            make_annotations(pd.concat(self._annotations, ignore_index=True))
            if self._annotations
            else make_annotations([])
        )
        ann = ann[list(ANNOTATION_COLUMNS)]
        write_parquet(self.tmp / "annotations.parquet", ann)
        trials = _typed(pd.DataFrame(self._trials), TRIAL_COLUMNS)
        write_parquet(self.tmp / "trials.parquet", trials)
        write_json(self.tmp / "import_report.json", self.report)
        write_json(
            self.tmp / "store.json",
            {
                "format": FORMAT,
                "version": VERSION,
                "dataset": self.dataset,
                "source": self.source,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "sessions": self._sessions,
            },
        )
        self._carry_derived()
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            if old.exists():  # left by an earlier run of this pid that was killed here
                shutil.rmtree(old)
            os.replace(self.path, old)
            try:
                os.replace(self.tmp, self.path)
            except BaseException:
                os.replace(old, self.path)  # put the previous store back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp, self.path)
        return Store(self.path)


# --- damaged files: every read of a store file names the file and what is wrong -------------


def read_store_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A store's JSON file (an object); :class:`StoreFileError` if missing or damaged."""
    path = Path(path)
    try:
        obj = read_json(path)
    except FileNotFoundError:
        raise StoreFileError(path, "missing") from None
    except UnicodeDecodeError:
        raise StoreFileError(path, "not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise StoreFileError(path, f"not valid JSON ({exc})") from None
    except OSError as exc:
        raise StoreFileError(path, f"unreadable ({exc.strerror})") from None
    if not isinstance(obj, dict):
        raise StoreFileError(path, f"not a JSON object but {type(obj).__name__}")
    return obj


def _parquet_error(path: Path, exc: BaseException) -> StoreFileError:
    if isinstance(exc, FileNotFoundError):
        return StoreFileError(path, "missing")
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = re.sub(r"^Could not open Parquet input source '.*?': ", "", first)
    return StoreFileError(path, f"damaged Parquet file ({first})")


def read_store_parquet(path: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """``pd.read_parquet`` of a store file; :class:`StoreFileError` if missing or damaged."""
    import pyarrow as pa

    path = Path(path)
    try:
        return pd.read_parquet(path, **kwargs)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _parquet_error(path, exc) from None


def parquet_rows(path: str | os.PathLike[str]) -> int:
    """Rows of a Parquet file, from its footer only (catches a truncated file cheaply)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _parquet_error(path, exc) from None


def check_npy(path: str | os.PathLike[str], n_channels: int | None = None) -> tuple[int, ...]:
    """Shape of a signal ``.npy`` after checking its header against its size (header only).

    Raises :class:`StoreFileError` for a missing, non-``.npy``, truncated, non-2-D file, an
    object dtype, or a channel count other than ``n_channels``.
    """
    path = Path(path)
    fmt = np.lib.format
    try:
        with open(path, "rb") as fh:
            version = fmt.read_magic(fh)
            reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = reader(fh)
            data_start = fh.tell()
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        raise StoreFileError(path, "missing") from None
    except (ValueError, EOFError, SyntaxError) as exc:
        raise StoreFileError(path, f"not a .npy array file ({exc})") from None
    except OSError as exc:
        raise StoreFileError(path, f"unreadable ({exc.strerror})") from None
    if dtype.hasobject:
        raise StoreFileError(path, "holds Python objects, not numbers")
    if len(shape) != 2:
        raise StoreFileError(path, f"shape {shape}, expected (n_samples, n_channels)")
    expected = data_start + int(np.prod(shape)) * dtype.itemsize
    if size < expected:
        raise StoreFileError(
            path, f"truncated: {size} bytes, its header says {shape} {dtype} ({expected} bytes)"
        )
    if n_channels is not None and shape[1] != n_channels:
        raise StoreFileError(path, f"{shape[1]} channel column(s), session.json lists {n_channels}")
    return tuple(int(v) for v in shape)


# --- full disk: check before large writes, reserve the blocks of memory-mapped files ---------

#: Free space kept beyond what a write needs (file system metadata, the small tables).
SPACE_MARGIN = 16 * 2**20


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def ensure_free_space(folder: str | os.PathLike[str], nbytes: int, what: str) -> None:
    """:class:`DiskFullError` unless ``folder``'s file system has ``nbytes`` (+ a margin) free."""
    free = shutil.disk_usage(folder).free
    if nbytes + SPACE_MARGIN > free:
        raise DiskFullError(
            f"{what}: not enough free space: {_mb(nbytes)} to write (+{_mb(SPACE_MARGIN)} kept "
            f"free), {_mb(free)} free on that disk"
        )


def _disk_full(exc: BaseException | None) -> bool:
    return (
        isinstance(exc, OSError)
        and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        and not isinstance(exc, DiskFullError)
    )


def open_signal_memmap(path: str | os.PathLike[str], n_samples: int, n_channels: int) -> np.ndarray:
    """A new writable float32 ``.npy`` memmap, its disk blocks reserved up front.

    Writing through a memory map onto a full disk kills the process with SIGBUS; this checks the
    free space first and reserves the whole file (``posix_fallocate``), so a full disk is a
    :class:`DiskFullError` here instead.
    """
    path = Path(path)
    n_samples, n_channels = int(n_samples), int(n_channels)
    nbytes = 4 * n_samples * n_channels + 4096
    ensure_free_space(path.parent, nbytes, f"signal file {path.name}")
    mm = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_samples, n_channels)
    )
    if hasattr(os, "posix_fallocate"):
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                del mm
                path.unlink(missing_ok=True)
                raise DiskFullError(
                    f"signal file {path.name}: no space left on the device for {_mb(nbytes)}"
                ) from exc
            # EOPNOTSUPP/EINVAL: the file system cannot reserve; the free-space check stands
        finally:
            os.close(fd)
    return mm


# --- one writer per store, and what killed writers leave behind ----------------------------

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, writers are not serialised
    fcntl = None  # type: ignore[assignment]


class StoreLock:
    """An exclusive ``flock`` on ``.STORE.lock`` next to the store; the file names the holder.

    The lock dies with its process (the kernel drops it), so a killed import never leaves a
    store locked. The file is removed on release; a waiter that locked a file just removed
    retries on the new one.
    """

    def __init__(self, store: str | os.PathLike[str]) -> None:
        self.store = Path(store).absolute()
        self.path = self.store.with_name(f".{self.store.name}.lock")
        self.fd: int | None = None

    def holder(self) -> str:
        """The PID written in the lock file (``"unknown"`` if unreadable)."""
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return pid if pid.isdigit() else "unknown"

    def acquire(self, wait_s: float = 0.0) -> None:
        if fcntl is None or self.fd is not None:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:  # name the store's folder, not our hidden lock file
                raise OSError(exc.errno, exc.strerror, str(self.store.parent)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise StoreLockedError(
                        f"{self.store}: another import (PID {self.holder()}) is writing this "
                        f"store (lock {self.path}); wait for it to finish"
                    ) from None
                time.sleep(0.1)
                continue
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the previous holder removed the file after we opened it
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            return

    def release(self) -> None:
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _leftovers(store: Path) -> list[tuple[Path, str, bool]]:
    """``(path, kind, stale)`` of the temporaries writers of ``store`` left next to it.

    ``.STORE.tmp-PID`` (a store being built), ``.STORE.old-PID`` (the previous store during the
    commit swap), ``.STORE.raw-PID`` / ``.STORE.copy-PID`` (an import before pseudonymization or
    frame copying) and those of their own writers (``..STORE.raw-PID.tmp-PID``, their locks);
    stale when none of the PIDs in the name is alive.
    """
    pattern = re.compile(
        r"\.+" + re.escape(store.name) + r"((?:\.(?:tmp|old|raw|copy)-\d+)+)(\.lock)?"
    )
    out = []
    try:
        entries = list(store.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        tokens = re.findall(r"\.(tmp|old|raw|copy)-(\d+)", m.group(1))
        stale = not any(_pid_alive(int(pid)) for _, pid in tokens)
        top = len(tokens) == 1 and entry.name.startswith(f".{store.name}.") and not m.group(2)
        out.append((entry, tokens[0][0] if top else "nested", stale))
    return out


def clean_stale(store: str | os.PathLike[str]) -> list[str]:
    """Remove the leftovers of killed writers of ``store``; restore an orphaned previous store.

    Call it holding the store's lock. A kill between the two renames of the commit swap leaves
    no store at the path and the previous one in ``.STORE.old-PID``: that one is moved back (the
    interrupted import never committed). Returns what was done, one line each (also logged).
    """
    store = Path(store).absolute()
    done = []
    stale = [(p, kind) for p, kind, dead in _leftovers(store) if dead]
    olds = sorted(
        (p for p, kind in stale if kind == "old" and is_store(p)),
        key=lambda p: p.stat().st_mtime,
    )
    if olds and not store.exists():
        os.replace(olds[-1], store)
        done.append(f"restored the previous store {store} from {olds[-1].name} (import killed)")
    for p, _ in stale:
        if not p.exists() and not p.is_symlink():
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        done.append(f"removed {p.name}, left by a killed import")
    for line in done:
        logger.warning(line)
    return done


def recover_store(store: str | os.PathLike[str]) -> bool:
    """Put back a store orphaned by a kill inside the commit swap; whether one was restored.

    Does nothing when the store exists, has no orphan, or another writer holds its lock.
    """
    store = Path(store).absolute()
    if store.exists() or not any(
        kind == "old" and dead for _, kind, dead in _leftovers(store)
    ):
        return False
    lock = StoreLock(store)
    try:
        lock.acquire()
    except (StoreLockedError, OSError):
        return False
    try:
        clean_stale(store)
    finally:
        lock.release()
    return is_store(store)
