"""The on-disk store: sessions of synchronized streams plus the annotation table.

Format in ``docs/format.md``. Reading is lazy (signals are memory-mapped, frames read one by one);
writing goes through :class:`StoreWriter`, which builds a complete store in a temporary sibling
directory and swaps it in at :meth:`StoreWriter.commit`, so a failed import leaves the previous
store intact.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmme.data.annotations import ANNOTATION_COLUMNS, make_annotations
from mmme.data.streams import FrameTable, SignalStream, read_image
from mmme.data.sync import ClockMap
from mmme.errors import StoreError
from mmme.utils import read_json, write_json, write_parquet

if TYPE_CHECKING:
    import mne

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
        if not meta_path.is_file():
            raise StoreError(f"{self.path} is not an mmme store (no store.json)")
        self.meta: dict[str, Any] = read_json(meta_path)
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
        return make_annotations(pd.read_parquet(path))

    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per trial (columns of :data:`TRIAL_COLUMNS`)."""
        path = self.path / "trials.parquet"
        if not path.exists():
            return _typed(pd.DataFrame(columns=list(TRIAL_COLUMNS)), TRIAL_COLUMNS)
        return _typed(pd.read_parquet(path), TRIAL_COLUMNS)

    @property
    def sessions(self) -> list[tuple[str, str]]:
        """``(subject, session)`` of every session."""
        return [(s["subject"], s["session"]) for s in self.meta.get("sessions", [])]

    @property
    def report(self) -> dict[str, Any]:
        """The import report (quirks fixed, rows skipped)."""
        path = self.path / "import_report.json"
        return read_json(path) if path.exists() else {}

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
        self.meta: dict[str, Any] = read_json(path / "session.json")
        self.subject: str = self.meta["subject"]
        self.session: str = self.meta["session"]

    def __repr__(self) -> str:
        return f"<Session {self.subject}/{self.session}: streams {sorted(self.streams)}>"

    @cached_property
    def clocks(self) -> dict[str, ClockMap]:
        """Device -> clock map onto the common clock."""
        return {k: ClockMap.from_dict(v) for k, v in self.meta.get("clocks", {}).items()}

    @property
    def reference(self) -> str:
        """The device whose clock is the common clock."""
        return str(self.meta.get("reference", ""))

    @cached_property
    def markers(self) -> pd.DataFrame:
        """Markers of every device: ``device, code, device_time_s, time_s``."""
        return pd.read_parquet(self.path / "markers.parquet")

    @cached_property
    def streams(self) -> dict[str, SignalStream]:
        """Signal streams by name (``"eeg"``, ``"physio"``)."""
        out = {}
        for name, m in self.meta.get("streams", {}).items():
            out[name] = SignalStream(
                self.path / "signals" / f"{name}.npy",
                m["ch_names"],
                m["units"],
                m["sfreq"],
                self.clocks[m["device"]],
                m["device"],
                m.get("kind", name),
            )
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
        root = Path(video["frames_root"])
        if not root.is_absolute():
            root = self.path / root
        return FrameTable(self.path / "video" / "frames.parquet", root, video.get("fps"))

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
    directory and leaves any existing store at ``path`` untouched.

    Parameters
    ----------
    path : str | Path
        Where the store will be.
    dataset : str
        Name of the data set (``"mmme"``, ``"casme-ii"``, ...).
    source : str
        What was imported (a path), recorded in ``store.json``.
    """

    def __init__(self, path: str | os.PathLike[str], dataset: str, source: str = "") -> None:
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
        self._sessions: list[dict[str, str]] = []
        self._trials: list[dict[str, Any]] = []
        self._annotations: list[pd.DataFrame] = []
        self.report: dict[str, Any] = {"quirks": [], "skipped": [], "sync": []}

    def __enter__(self) -> StoreWriter:
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp.exists():
            try:
                self.commit()
            except BaseException:  # a failed final write must not leave the temp store behind
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise

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
        return np.lib.format.open_memmap(
            d / f"{name}.npy", mode="w+", dtype=np.float32, shape=(int(n_samples), int(n_channels))
        )

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
