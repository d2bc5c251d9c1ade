"""Samples: one row per annotated event, the unit every benchmark works on.

A :class:`Samples` holds the events of one or more stores with a stable ``sample_id``
(``dataset/subject/session/trial/event``), their labels, their subjects (``groups``, qualified by
data set) and accessors that return each modality aligned with the rows: ``mne.Epochs`` of any
stream, physiology and EEG feature tables, aligned face clips and the STSTNet flow input. Rows are
never dropped by an accessor: where a modality is missing the row is NaN, and ``return_mask=True``
also gives the boolean mask of the rows that have it.

Examples
--------
>>> import mmme
>>> from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
>>> samples = mmme.data.Samples.from_store(mmme.read_store("store"))  # doctest: +SKIP
>>> X = samples.physio_features()
>>> cross_val_score(model, X, samples.y, groups=samples.groups, cv=LeaveOneGroupOut())
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mmme._logging import logger, verbose_level
from mmme.data.annotations import ANNOTATION_COLUMNS
from mmme.errors import InputError, StoreError

if TYPE_CHECKING:
    import mne

    from mmme.data.store import Store

#: Annotation columns that describe the stimulus, not the expression: never features, and in
#: :attr:`Samples.metadata` only on request (``stimulus=True``, which also adds the clip category).
STIMULUS_COLUMNS: tuple[str, ...] = ("marker", "category")

#: Label columns :attr:`Samples.y` can take by name.
LABEL_COLUMNS: tuple[str, ...] = ("emotion", "emotion3", "type", "emotion_raw", "aus")

_ANCHORS = ("onset", "apex", "offset")


def _sample_ids(dataset: str, df: pd.DataFrame) -> pd.Series:
    return (
        dataset + "/" + df["subject"].astype(str) + "/" + df["session"].astype(str) + "/"
        + df["trial"].astype(str) + "/" + df["event"].astype("Int64").astype(str)
    )


def _label_values(table: pd.DataFrame, label: str | Mapping[str, Any]) -> pd.Series:
    """The label of every row: a column by name, or a mapping applied to ``emotion``."""
    if isinstance(label, Mapping):
        return table["emotion"].map(lambda e: label.get(e, pd.NA) if pd.notna(e) else pd.NA)
    if label not in table.columns:
        raise InputError(f"unknown label {label!r}; use one of {list(LABEL_COLUMNS)} or a mapping")
    return table[label]


def cached_array(
    store: Store, kind: str, params: Mapping[str, Any], compute: Callable[[], np.ndarray]
) -> np.ndarray:
    """``compute()`` once, kept under ``STORE/derived/samples/<kind>/<key>.npy``.

    The key hashes ``kind``, ``params`` (which must name the inputs, e.g. the sample and its file
    identities) and mmme's version. The write is atomic, so an interrupted run keeps what was
    done and a re-run computes only the rest. This is the one place Samples caches; it moves to
    the store's shared results layer when that exists.
    """
    from mmme import __version__
    from mmme.utils import write_npy

    blob = json.dumps({"kind": kind, "params": params, "mmme": __version__}, sort_keys=True,
                      default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:24]
    path = Path(store.path) / "derived" / "samples" / kind / f"{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    arr = np.asarray(compute())
    write_npy(path, arr)
    return arr


def _identity(path: Path) -> list[Any]:
    st = path.stat()
    return [path.name, st.st_size, st.st_mtime_ns]


class Samples:
    """Annotated events of one or more stores, with labels, groups and modality accessors.

    Build with :meth:`from_store` or :meth:`concat`, not directly.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per event: ``sample_id``, ``dataset``, ``store`` (the store's path) and the
        columns of :data:`~mmme.data.ANNOTATION_COLUMNS` (plus ``category``).
    stores : mapping of str to Store
        The stores of the rows, by path.
    label : str | mapping
        The label :attr:`y` returns (see :meth:`with_label`).

    Examples
    --------
    >>> samples = Samples.from_store(store, types=("ME",), label="emotion3")  # doctest: +SKIP
    >>> samples.y[:3], samples.groups[:3]
    """

    def __init__(
        self,
        table: pd.DataFrame,
        stores: Mapping[str, Store],
        label: str | Mapping[str, Any] = "emotion3",
    ) -> None:
        if table["sample_id"].duplicated().any():
            dup = table.loc[table["sample_id"].duplicated(), "sample_id"].iloc[0]
            raise InputError(f"sample {dup!r} appears twice (the same store added twice?)")
        self._table = table.reset_index(drop=True)
        self._stores = dict(stores)
        self.label = label

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_store(
        cls,
        store: Store | str | Path,
        types: Sequence[str] | None = ("ME",),
        label: str | Mapping[str, Any] = "emotion3",
        *,
        verbose: bool | str | int | None = None,
    ) -> Samples:
        """The events of a store of the given types that have the label.

        Parameters
        ----------
        store : Store | str | Path
            A store or its path.
        types : sequence of str | None
            Event types kept (``"ME"``, ``"MaE"``); ``None`` keeps all.
        label : str | mapping
            A label column (``"emotion"``, ``"emotion3"``, ``"type"``, ...) or a mapping from
            the fine ``emotion`` to a class. Events without a label (``"others"`` has no
            ``emotion3``) are left out, and logged.
        verbose : bool | str | int | None
            Log level for this call.

        Returns
        -------
        Samples

        Examples
        --------
        >>> samples = Samples.from_store("store", types=("ME",), label="emotion3")  # doctest: +SKIP
        >>> len(samples), samples.classes
        """
        from mmme.data.store import Store

        st = store if isinstance(store, Store) else Store(store)
        ann = st.annotations.copy()
        trials = st.trials[["subject", "session", "trial", "category"]]
        ann = ann.merge(trials, on=["subject", "session", "trial"], how="left")
        with verbose_level(verbose):
            if types is not None:
                ann = ann[ann["type"].isin(list(types))]
            y = _label_values(ann, label)
            if y.isna().any():
                logger.info(
                    "%s: %d event(s) without a %r label left out", st.path, int(y.isna().sum()),
                    label if isinstance(label, str) else "mapped",
                )
            ann = ann[y.notna().to_numpy()]
            dataset = str(st.meta.get("dataset", st.path.name))
            ann.insert(0, "store", str(st.path))
            ann.insert(0, "dataset", dataset)
            ann.insert(0, "sample_id", _sample_ids(dataset, ann).to_numpy())
            logger.info("%s: %d samples", st.path, len(ann))
        return cls(ann, {str(st.path): st}, label)

    @classmethod
    def concat(cls, parts: Iterable[Samples]) -> Samples:
        """Samples of several stores or data sets in one (the first one's label).

        Examples
        --------
        >>> both = Samples.concat([casme, mmme_samples])  # doctest: +SKIP
        """
        parts = list(parts)
        if not parts:
            raise InputError("Samples.concat needs at least one Samples")
        stores: dict[str, Store] = {}
        for p in parts:
            stores.update(p._stores)
        table = pd.concat([p._table for p in parts], ignore_index=True)
        return cls(table, stores, parts[0].label)

    def with_label(self, label: str | Mapping[str, Any]) -> Samples:
        """The same rows with another label; rows it leaves without a label are an error."""
        y = _label_values(self._table, label)
        if y.isna().any():
            first = self._table.loc[y.isna().to_numpy(), "sample_id"].iloc[0]
            raise InputError(f"label leaves {int(y.isna().sum())} sample(s) unlabelled, "
                             f"first {first!r}; select them with from_store")
        return Samples(self._table, self._stores, label)

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, rows: Any) -> Samples:
        """A subset of rows (a boolean mask, indices or a slice), in that order."""
        idx = np.arange(len(self))[rows]
        return Samples(self._table.iloc[np.atleast_1d(idx)], self._stores, self.label)

    def __repr__(self) -> str:
        return (f"<Samples: {len(self)} events of {len(set(self.groups))} subjects, "
                f"label {self.label!r}>")

    # --- rows -----------------------------------------------------------------------------

    @property
    def sample_id(self) -> np.ndarray:
        """``dataset/subject/session/trial/event`` of every row."""
        return self._table["sample_id"].to_numpy(dtype=object)

    @property
    def y(self) -> np.ndarray:
        """The label of every row (see :meth:`with_label`)."""
        return _label_values(self._table, self.label).to_numpy(dtype=object)

    @property
    def classes(self) -> list[Any]:
        """The distinct labels, sorted."""
        return sorted(set(self.y.tolist()), key=str)

    @property
    def groups(self) -> np.ndarray:
        """Subject of every row, qualified by data set (``dataset/subject``): for LOSO folds."""
        t = self._table
        return (t["dataset"].astype(str) + "/" + t["subject"].astype(str)).to_numpy(dtype=object)

    @property
    def metadata(self) -> pd.DataFrame:
        """The annotation rows: ``sample_id`` + :data:`ANNOTATION_COLUMNS`, no stimulus fields."""
        return self.get_metadata()

    def get_metadata(self, stimulus: bool = False) -> pd.DataFrame:
        """The annotation rows; ``stimulus=True`` adds the clip ``marker`` and ``category``.

        Stimulus fields describe what was shown, not the face; they are never features.
        """
        cols = ["sample_id", "dataset", *ANNOTATION_COLUMNS]
        if stimulus:
            cols.append("category")
        else:
            cols = [c for c in cols if c not in STIMULUS_COLUMNS]
        return self._table[cols].reset_index(drop=True).copy()

    def _times(self, at: str) -> np.ndarray:
        if at not in _ANCHORS:
            raise InputError(f"at must be one of {_ANCHORS}, got {at!r}")
        t = pd.to_numeric(self._table[f"{at}_s"], errors="coerce").to_numpy(dtype=float)
        if at != "onset":  # a missing apex / offset falls back on the onset, never on nothing
            t = np.where(np.isfinite(t), t, self._table["onset_s"].to_numpy(dtype=float))
        return t

    def _sessions(self) -> Iterable[tuple[Any, np.ndarray]]:
        """``(Session | None, row positions)`` per session, in first-appearance order."""
        keys = list(zip(*(self._table[c].astype(str) for c in ("store", "subject", "session")),
                        strict=True))
        for key in dict.fromkeys(keys):
            rows = np.flatnonzero([k == key for k in keys])
            store, subject, session = key
            try:
                ses = self._stores[store].session(subject, session)
            except StoreError:
                ses = None
            yield ses, rows

    # --- modalities -------------------------------------------------------------------------

    def epochs(
        self,
        stream: str,
        tmin: float = -1.0,
        tmax: float = 2.0,
        picks: Sequence[str] | str | None = None,
        at: str = "onset",
        *,
        baseline: tuple[float | None, float | None] | None = None,
        return_mask: bool = False,
        verbose: bool | str | int | None = None,
    ) -> mne.EpochsArray | tuple[mne.EpochsArray, np.ndarray]:
        """``mne.Epochs`` of one stream time-locked to every sample (one epoch per row).

        Cut session by session with :meth:`mmme.data.Session.epochs` (offset and drift applied,
        only the windows read). A row whose session lacks the stream, or whose window runs past
        the recording, is NaN (in part or whole); ``metadata["available"]`` says which rows are
        whole.

        Parameters
        ----------
        stream : str
            ``"eeg"``, ``"physio"``, ...
        tmin, tmax : float
            Window around the anchor, seconds.
        picks : str | list of str | None
            Channel names; ``None``: all of the first session that has the stream.
        at : {"onset", "apex", "offset"}
            The anchor (a missing apex / offset falls back on the onset).
        baseline : tuple | None
            MNE baseline, default none.
        return_mask : bool
            Also return the boolean mask of rows with a whole window.
        verbose : bool | str | int | None
            Log level for this call.

        Returns
        -------
        mne.EpochsArray
            ``metadata`` = :attr:`metadata` plus ``time_s`` and ``available``; EEG with its
            10-05 montage. With several sessions, ``info["sfreq"]`` is the first session's
            drift-corrected rate (they differ by parts per million).

        Examples
        --------
        >>> ep = samples.epochs("eeg", -0.2, 0.8, at="apex")                   # doctest: +SKIP
        >>> ep.metadata["sample_id"].iloc[0]
        """

        from mmme.data.streams import _epochs_array

        times = self._times(at)
        meta = self.metadata
        data: np.ndarray | None = None
        events = np.zeros((len(self), 3), dtype=np.int64)
        events[:, 2] = 1
        avail = np.zeros(len(self), dtype=bool)
        info: mne.Info | None = None
        tmin_ep = 0.0
        missing = []
        with verbose_level(verbose):
            for ses, rows in self._sessions():
                if ses is None or stream not in ses.streams:
                    missing.append(rows)
                    continue
                s = ses.streams[stream]
                if picks is None:
                    picks = list(s.ch_names)
                timed = np.isfinite(times[rows])
                if not timed.all():  # an event without a time is a NaN row, not a dropped one
                    missing.append(rows[~timed])
                    rows = rows[timed]
                    if not len(rows):
                        continue
                ep = ses.epochs(stream, times[rows], tmin, tmax, picks=picks, verbose=verbose)
                x = ep.get_data(copy=False)
                if data is None:
                    data = np.full((len(self), *x.shape[1:]), np.nan)
                    info, tmin_ep = ep.info, float(ep.tmin)
                elif x.shape[1:] != data.shape[1:]:
                    raise InputError(
                        f"session {ses.subject}/{ses.session}: {stream} epochs of shape "
                        f"{x.shape[1:]}, others {data.shape[1:]} (channels or rate differ)"
                    )
                data[rows] = x
                events[rows, 0] = ep.events[:, 0]
                avail[rows] = np.isfinite(x).all(axis=(1, 2))
            if data is None or info is None:
                raise InputError(f"no session of these samples has a {stream!r} stream")
            for rows in missing:
                logger.info("%d sample(s) without a %r stream or a time: NaN", len(rows), stream)
        meta["time_s"] = times
        meta["available"] = avail
        out = _epochs_array(data, info, events, tmin_ep, meta, baseline, verbose)
        return (out, avail) if return_mask else out

    def physio_features(
        self,
        channels: Sequence[str] | None = None,
        *,
        deltas: bool = True,
        return_mask: bool = False,
    ) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
        """Event-locked peripheral physiology features, one row per sample.

        Read from ``STORE/derived/physio/events.parquet`` (written by ``mmme physio STORE``).
        Columns are ``<channel>_<window>_<feature>`` (and ``<channel>_<window>-baseline_<feature>``
        with ``deltas``), so a subset is selected by name, e.g. ``df.filter(like="EMG")``.

        Parameters
        ----------
        channels : sequence of str | None
            Keep only these channels' columns.
        deltas : bool
            Add response-minus-baseline columns.
        return_mask : bool
            Also return the mask of rows that have physiology features.

        Returns
        -------
        pandas.DataFrame
            Index ``sample_id``, aligned with the rows; NaN rows where a sample has none.

        Examples
        --------
        >>> X = samples.physio_features()                                    # doctest: +SKIP
        >>> emg = X.filter(regex="^EMG")
        """
        from mmme.physio.events import event_features_wide

        keys = ["subject", "session", "trial", "event"]
        parts = []
        for store_path, store in self._stores.items():
            rows = self._table[self._table["store"] == store_path]
            if rows.empty:
                continue
            path = Path(store.path) / "derived" / "physio" / "events.parquet"
            if not path.exists():
                raise InputError(f"no physiology features: run `mmme physio {store.path}` first",
                                 file=str(path))
            tidy = pd.read_parquet(path)
            tidy = tidy[tidy["kind"] != "eeg"]
            if channels is not None:
                tidy = tidy[tidy["channel"].isin(list(channels))]
            if tidy.empty:
                continue
            tidy = tidy.assign(event=tidy["subject"].astype(str) + "|" + tidy["session"].astype(str)
                               + "|" + tidy["trial"].astype(str) + "|"
                               + tidy["event"].astype("Int64").astype(str))
            wide = event_features_wide(tidy, deltas=deltas).set_index("event")
            own = rows[keys].astype({"event": "Int64"}).astype(str).agg("|".join, axis=1)
            part = wide.reindex(own.to_numpy())
            part.index = rows["sample_id"].to_numpy()
            parts.append(part)
        cols: list[str] = []
        for p in parts:
            cols += [c for c in p.columns if c not in cols]
        out = pd.DataFrame(index=pd.Index(self.sample_id, name="sample_id"), columns=cols,
                           dtype=float)
        for p in parts:
            out.loc[p.index, p.columns] = p.to_numpy(dtype=float)
        out = out[sorted(cols)]
        mask = out.notna().any(axis=1).to_numpy() if cols else np.zeros(len(out), bool)
        return (out, mask) if return_mask else out

    def eeg_features(
        self,
        tmin: float = 0.0,
        tmax: float = 2.0,
        bands: Mapping[str, tuple[float, float]] | None = None,
        features: Sequence[str] = ("power",),
        *,
        stream: str = "eeg",
        picks: Sequence[str] | None = None,
        at: str = "onset",
        seg_s: float = 1.0,
        return_mask: bool = False,
        verbose: bool | str | int | None = None,
    ) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
        """EEG band features in a window after each sample's anchor, one row per sample.

        By default band power in the authors' 5 bands (:data:`mmme.eeg.BANDS`) over their 62
        channels (:data:`mmme.eeg.NEUROSCAN_62`, M1/M2 left out): 310 features. Computed with
        :class:`mmme.eeg.EEGBandFeatures` on :meth:`epochs` of the raw (unfiltered) signal.

        Parameters
        ----------
        tmin, tmax : float
            Window around the anchor, seconds.
        bands : mapping | None
            Band edges, default :data:`mmme.eeg.BANDS`.
        features : sequence of {"power", "de", "relpower"}
            ``("de",)`` for differential entropy.
        stream : str
            The EEG stream.
        picks : sequence of str | None
            Channels; default the 62 scalp channels the stream has.
        at : {"onset", "apex", "offset"}
            The anchor.
        seg_s : float
            Welch segment length.
        return_mask : bool
            Also return the mask of rows with a whole EEG window.

        Returns
        -------
        pandas.DataFrame
            Index ``sample_id``; columns ``<channel>_<band>_<feature>``; NaN rows where missing.

        Examples
        --------
        >>> X = samples.eeg_features(features=("de",))                        # doctest: +SKIP
        >>> X.shape[1]
        310
        """
        from mmme.eeg.channels import NEUROSCAN_62
        from mmme.eeg.features import EEGBandFeatures

        if picks is None:
            names = self._stream_channels(stream)
            picks = [c for c in NEUROSCAN_62 if c in names]
            if not picks:
                raise InputError(f"stream {stream!r} has none of the 62 Neuroscan scalp channels")
        ep, mask = self.epochs(stream, tmin, tmax, picks=list(picks), at=at, return_mask=True,
                               verbose=verbose)
        x = ep.get_data(copy=False)
        est = EEGBandFeatures(sfreq=ep.info["sfreq"], ch_names=list(picks), bands=bands,
                              features=features, seg_s=seg_s)
        est.fit(x[mask] if mask.any() else x[:1])
        out = np.full((len(self), len(est.get_feature_names_out())), np.nan)
        if mask.any():
            out[mask] = est.transform(x[mask])
        df = pd.DataFrame(out, index=pd.Index(self.sample_id, name="sample_id"),
                          columns=list(est.get_feature_names_out()))
        return (df, mask) if return_mask else df

    def _stream_channels(self, stream: str) -> list[str]:
        for ses, _ in self._sessions():
            if ses is not None and stream in ses.streams:
                return list(ses.streams[stream].ch_names)
        raise InputError(f"no session of these samples has a {stream!r} stream")

    def face_clips(
        self,
        size: int = 128,
        *,
        flow: str = "dis",
        backend: str = "auto",
        return_mask: bool = False,
    ) -> list[np.ndarray] | tuple[list[np.ndarray], np.ndarray]:
        """Aligned gray face crops of every sample, onset to offset frame, computed once.

        The face pipeline (:func:`mmme.face.pipeline.analyze_frames`, one alignment per
        segment so the expression is not aligned away) runs over each sample's frames; the
        crops are cached under ``STORE/derived/samples``.

        Parameters
        ----------
        size : int
            Crop side in pixels.
        flow : str
            Flow method of the pass (its flow is not kept; the cheap ``"dis"`` by default).
        backend : str
            Face backend.
        return_mask : bool
            Also return the mask of samples whose every frame has a face.

        Returns
        -------
        list of numpy.ndarray
            One ``(T_i, size, size)`` float32 clip per sample (0..255), ``T_i`` =
            offset - onset + 1 frames; frames without a face are NaN, a sample without video is
            one NaN frame. Ready for :class:`mmme.face.features.LBPTOP`.

        Examples
        --------
        >>> clips = samples.face_clips(128)                                  # doctest: +SKIP
        >>> X = LBPTOP().fit_transform(clips)
        """
        clips = []
        for i in range(len(self)):
            clips.append(self._clip(i, size, flow, backend))
        mask = np.array([bool(np.isfinite(c).all()) for c in clips])
        return (clips, mask) if return_mask else clips

    def _clip(self, i: int, size: int, flow: str, backend: str) -> np.ndarray:
        row = self._table.iloc[i]
        store = self._stores[str(row["store"])]
        nan = np.full((1, size, size), np.nan, np.float32)
        on, off = row["onset_frame"], row["offset_frame"]
        if pd.isna(on):
            return nan
        off = on if pd.isna(off) else off
        try:
            tr = store.trial(str(row["subject"]), str(row["session"]), str(row["trial"]))
        except StoreError:
            return nan
        frames = tr.frames
        if not len(frames):
            return nan
        sel = frames.index[(frames["frame"] >= int(on)) & (frames["frame"] <= int(off))]
        if len(sel) != int(off) - int(on) + 1:
            logger.warning("%s: frames %d..%d not all in the store: NaN clip",
                           row["sample_id"], int(on), int(off))
            return nan
        paths = [tr.frame_path(int(k)) for k in sel]
        params = {"sample": row["sample_id"], "frames": [_identity(p) for p in paths],
                  "size": size, "flow": flow, "backend": backend}

        def compute() -> np.ndarray:
            from mmme.data.streams import read_image
            from mmme.face.pipeline import analyze_frames

            ft = tr.session.frames
            fps = float(ft.fps) if ft is not None and ft.fps else 100.0  # only for times
            res = analyze_frames((read_image(p) for p in paths), fps, backend=backend,
                                 size=size, flow=flow, keep_crops=True, prefetch=0)
            crops = np.asarray(res.crops, dtype=np.float32)
            crops[~res.face] = np.nan
            return crops

        return cached_array(store, "face_clips", params, compute)

    def flow_inputs(
        self,
        size: int = 28,
        *,
        crop: int = 128,
        method: str = "tvl1",
        return_mask: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """STSTNet input of every sample: u, v and optical strain of the onset -> apex flow.

        From the aligned crops of :meth:`face_clips` (onset frame and apex frame, one alignment)
        with :func:`mmme.face.flow.ststnet_input`; computed once and cached.

        Parameters
        ----------
        size : int
            Output side (28 in STSTNet).
        crop : int
            Side of the aligned crops the flow is computed on.
        method : str
            Flow method (STSTNet used TV-L1).
        return_mask : bool
            Also return the mask of samples with an input.

        Returns
        -------
        numpy.ndarray
            ``(n, size, size, 3)`` float32, NaN where a sample has no onset/apex face.

        Examples
        --------
        >>> X = samples.flow_inputs(28)                                      # doctest: +SKIP
        >>> X.shape[1:]
        (28, 28, 3)
        """
        from mmme.face.flow import ststnet_input

        out = np.full((len(self), size, size, 3), np.nan, np.float32)
        for i in range(len(self)):
            row = self._table.iloc[i]
            clip = self._clip(i, crop, "dis", "auto")
            apex = row["apex_frame"] if pd.notna(row["apex_frame"]) else row["offset_frame"]
            if pd.isna(row["onset_frame"]) or pd.isna(apex):
                continue
            k = int(apex) - int(row["onset_frame"])
            if not (0 <= k < len(clip)) or not (np.isfinite(clip[0]).all()
                                                and np.isfinite(clip[k]).all()):
                continue
            store = self._stores[str(row["store"])]
            a, b = clip[0].astype(np.uint8), clip[k].astype(np.uint8)
            digest = hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest()
            params = {"sample": row["sample_id"], "clip": digest, "size": size,
                      "method": method}
            out[i] = cached_array(store, "flow_inputs", params,
                                  lambda a=a, b=b: ststnet_input(a, b, size, method))
        mask = np.isfinite(out).all(axis=(1, 2, 3))
        return (out, mask) if return_mask else out
