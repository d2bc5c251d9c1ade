"""Lazy streams of a session: continuous signals and time-stamped video frames.

A :class:`SignalStream` wraps a time-major ``.npy`` file (``n_samples x n_channels``) that is
memory-mapped, never read whole: every access reads only the samples of the requested window.
Times are on the session's common clock (see :mod:`mmme.data.sync`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mmme._logging import logger, mne_verbose, verbose_level
from mmme.errors import InputError

if TYPE_CHECKING:
    import mne

    from mmme.data.sync import ClockMap

#: Channel-name -> MNE channel type for the non-EEG channels we know.
_CHANNEL_TYPES = {
    "HEO": "eog",
    "VEO": "eog",
    "EKG": "ecg",
    "ECG": "ecg",
    "EMG": "emg",
    "EMG A": "emg",
    "EMG B": "emg",
    "TRIGGER": "stim",
    "PPG": "bio",
    "RSP": "resp",
    "EDA": "bio",
    "SKT A": "temperature",
    "SKT B": "temperature",
    "ECG RATE": "misc",
    "RPPG": "bio",
}


class SignalStream:
    """A continuous multichannel recording of one device, read lazily.

    Parameters
    ----------
    path : Path
        The ``.npy`` file, float32, shape ``(n_samples, n_channels)``.
    ch_names : list of str
        Channel names, in column order.
    units : list of str
        Unit of each channel (EEG in volts, as MNE).
    sfreq : float
        Nominal sampling rate on the device's own clock.
    clock : ClockMap
        Device clock -> common clock.
    device : str
        Device name (``"eeg"``, ``"physio"``).
    kind : str
        ``"eeg"`` or ``"physio"``: how channels are typed for MNE.

    Examples
    --------
    >>> eeg = mmme.read_store("store").session("S01").streams["eeg"]    # doctest: +SKIP
    >>> data, times = eeg.get_data(600.0, 601.0, picks=["FZ", "CZ"])
    >>> raw = eeg.to_mne(600.0, 660.0)           # common clock on the Raw's time axis
    >>> ep = eeg.epochs([612.5], tmin=-0.5, tmax=1.5)
    """

    def __init__(
        self,
        path: Path,
        ch_names: Sequence[str],
        units: Sequence[str],
        sfreq: float,
        clock: ClockMap,
        device: str,
        kind: str = "physio",
    ) -> None:
        self.path = Path(path)
        self.ch_names = list(ch_names)
        self.units = list(units)
        self.sfreq = float(sfreq)
        self.clock = clock
        self.device = device
        self.kind = kind
        self._mm: np.ndarray | None = None

    @classmethod
    def from_array(
        cls,
        data: np.ndarray,
        sfreq: float,
        ch_names: Sequence[str],
        *,
        first_time: float = 0.0,
        clock: ClockMap | None = None,
        units: Sequence[str] | None = None,
        device: str = "array",
        kind: str = "physio",
    ) -> SignalStream:
        """A stream over an in-memory ``(n_channels, n_times)`` array (e.g. a processed signal).

        Parameters
        ----------
        data : numpy.ndarray
            ``(n_channels, n_times)``, as MNE.
        sfreq : float
            Sampling rate.
        ch_names : sequence of str
            One name per row.
        first_time : float
            Common-clock time of the first sample (used when ``clock`` is ``None``).
        clock : ClockMap | None
            Device clock -> common clock; default ``ClockMap(offset=first_time)``.

        Examples
        --------
        >>> s = SignalStream.from_array(np.zeros((1, 1000)), 100.0, ["EDA"])
        >>> s.epochs([5.0], -1.0, 2.0).get_data().shape
        (1, 1, 301)
        """
        from mmme.data.sync import ClockMap

        arr = np.asarray(data)
        names = list(ch_names)
        if arr.ndim != 2 or arr.shape[0] != len(names):
            raise InputError(
                f"data of shape {arr.shape} does not match {len(names)} channel names "
                "(expected (n_channels, n_times))"
            )
        out = cls(
            Path(device), names, list(units) if units is not None else [""] * len(names),
            sfreq, clock if clock is not None else ClockMap(offset=float(first_time)), device,
            kind,
        )
        out._mm = arr.T  # time-major, as the files
        return out

    def __repr__(self) -> str:
        return (
            f"<SignalStream {self.device}: {len(self.ch_names)} ch, {self.sfreq:g} Hz, "
            f"{self.duration_s:.1f} s>"
        )

    @property
    def _data(self) -> np.ndarray:
        if self._mm is None:
            self._mm = np.load(self.path, mmap_mode="r", allow_pickle=False)
        return self._mm

    @property
    def n_samples(self) -> int:
        return int(self._data.shape[0])

    @property
    def duration_s(self) -> float:
        """Length on the device clock, in seconds."""
        return self.n_samples / self.sfreq

    @property
    def sfreq_common(self) -> float:
        """Sampling rate seen on the common clock (nominal rate corrected for drift)."""
        return self.sfreq / self.clock.scale

    @property
    def start_s(self) -> float:
        """Common-clock time of the first sample."""
        return float(self.clock.to_common(0.0))

    @property
    def stop_s(self) -> float:
        """Common-clock time just after the last sample."""
        return float(self.clock.to_common(self.n_samples / self.sfreq))

    @property
    def first_samp(self) -> int:
        """Sample number of device sample 0 on the common-clock grid ``n / sfreq_common``.

        MNE puts sample ``n`` of a recording at ``n / sfreq``; a stream's device sample ``k``
        is sample ``k + first_samp`` of that grid. The grid is off the exact common-clock times
        (``clock.to_common(k / sfreq)``) by :attr:`grid_shift_s`, the same for every sample.
        """
        return int(np.rint(self.clock.offset * self.sfreq_common))

    @property
    def grid_shift_s(self) -> float:
        """Grid time minus exact common-clock time of every sample (``|shift| <= 0.5 / sfreq``)."""
        return (self.first_samp - self.clock.offset * self.sfreq_common) / self.sfreq_common

    def times(self, start: int, stop: int) -> np.ndarray:
        """Common-clock times of samples ``start:stop``."""
        return np.asarray(self.clock.to_common(np.arange(start, stop) / self.sfreq))

    def sample_index(self, time_s: float | np.ndarray) -> np.ndarray:
        """Device sample of common-clock times (may lie outside the recording).

        The sample nearest to ``time_s`` on the common-clock grid (see :attr:`first_samp`):
        ``rint(time_s * sfreq_common) - first_samp``, exactly the sample ``mne.Epochs`` takes on
        :meth:`to_mne`'s Raw for an event at ``rint(time_s * sfreq)``. It is within one sample
        of the exact position ``clock.to_device(time_s) * sfreq``.
        """
        t = np.asarray(time_s, dtype=float)
        return (np.rint(t * self.sfreq_common) - self.first_samp).astype(np.int64)

    def picks(self, picks: Sequence[str] | str | None) -> list[int]:
        """Column indices of channel names (all channels for ``None``)."""
        if picks is None:
            return list(range(len(self.ch_names)))
        if isinstance(picks, str):
            picks = [picks]
        out = []
        for name in picks:
            if name not in self.ch_names:
                raise InputError(
                    f"no such channel in {self.device} (has {self.ch_names})", channel=name
                )
            out.append(self.ch_names.index(name))
        return out

    def read(self, start: int, stop: int, picks: Sequence[str] | str | None = None) -> np.ndarray:
        """Samples ``start:stop`` (clipped to the recording) as ``(n_ch, n_times)`` float64."""
        start, stop = max(0, int(start)), min(self.n_samples, int(stop))
        idx = self.picks(picks)
        block = self._data[start : max(start, stop)]
        if len(idx) != len(self.ch_names):
            block = block[:, idx]
        # one float64 copy, channel-major, straight from the memory map
        return np.array(block.T, dtype=np.float64, order="C")

    def get_data(
        self,
        start_s: float | None = None,
        stop_s: float | None = None,
        picks: Sequence[str] | str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Data between two common-clock times.

        Returns
        -------
        data : ndarray, shape (n_channels, n_times)
        times : ndarray, shape (n_times,)
            Common-clock time of each sample.
        """
        a, b = self._window(start_s, stop_s)
        return self.read(a, b, picks), self.times(a, b)

    def _window(self, start_s: float | None, stop_s: float | None) -> tuple[int, int]:
        """Device samples ``a:b`` whose common-clock times lie in ``[start_s, stop_s)``."""
        a = 0 if start_s is None else int(math.ceil(self.clock.to_device(start_s) * self.sfreq))
        b = (
            self.n_samples
            if stop_s is None
            else int(math.ceil(self.clock.to_device(stop_s) * self.sfreq))
        )
        a, b = max(0, a), min(self.n_samples, b)
        return a, max(a, b)

    def iter_chunks(
        self,
        chunk_s: float = 60.0,
        overlap_s: float = 0.0,
        picks: Sequence[str] | str | None = None,
        start_s: float | None = None,
        stop_s: float | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stream the recording in chunks, so memory does not grow with its length.

        Chunk ``k`` covers ``[t0 + k * chunk_s - overlap_s, t0 + (k + 1) * chunk_s)`` (common
        clock, clipped to the recording): each chunk repeats the last ``overlap_s`` of the previous
        one, enough for filters to settle. Keep the part at or after ``t0 + k * chunk_s``.
        """
        t0 = self.start_s if start_s is None else max(start_s, self.start_s)
        t1 = self.stop_s if stop_s is None else min(stop_s, self.stop_s)
        k = 0
        while t0 + k * chunk_s < t1:
            a = t0 + k * chunk_s
            yield self.get_data(max(t0, a - overlap_s), min(t1, a + chunk_s), picks)
            k += 1

    def resample(
        self,
        sfreq: float,
        start_s: float,
        stop_s: float,
        picks: Sequence[str] | str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Data on a uniform common-clock grid ``start_s + k / sfreq`` (anti-aliased).

        Down-sampling low-pass filters at 0.45 x the new rate before interpolation.
        """
        from scipy.signal import butter, sosfiltfilt

        pad = 2.0 if sfreq < self.sfreq_common else 2.0 / self.sfreq
        data, times = self.get_data(start_s - pad, stop_s + pad, picks)
        grid = start_s + np.arange(int(math.floor((stop_s - start_s) * sfreq))) / sfreq
        if data.shape[1] < 2:
            return np.full((data.shape[0], len(grid)), np.nan), grid
        if sfreq < self.sfreq_common and data.shape[1] > 27:
            sos = butter(8, 0.45 * sfreq, fs=self.sfreq_common, output="sos")
            data = sosfiltfilt(sos, data, axis=1)
        out = np.vstack([np.interp(grid, times, row, left=np.nan, right=np.nan) for row in data])
        return out, grid

    def epochs(
        self,
        times_s: Sequence[float] | np.ndarray,
        tmin: float,
        tmax: float,
        picks: Sequence[str] | str | None = None,
        metadata: pd.DataFrame | None = None,
        on_edge: str = "nan",
        baseline: tuple[float | None, float | None] | None = None,
        verbose: bool | str | int | None = None,
    ) -> mne.EpochsArray:
        """Cut windows ``[t + tmin, t + tmax]`` around common-clock times: mmme's one cutter.

        Each event's sample is :meth:`sample_index` (the clock map's offset and drift applied);
        only the windows are read from the memory-mapped file. The result cuts the same samples
        as ``mne.Epochs(self.to_mne(...), events)`` with ``events[:, 0] = rint(t * sfreq)``.

        Parameters
        ----------
        times_s : array-like of float
            Event times on the common clock (seconds), e.g. annotations' ``onset_s``.
        tmin, tmax : float
            Window around each event (seconds; both ends included, as MNE).
        picks : str | list of str | None
            Channel names; ``None`` for all.
        metadata : pandas.DataFrame | None
            One row per event, kept aligned with the epochs (a ``time_s`` column is added when
            absent).
        on_edge : {"nan", "drop"}
            A window running past the recording: ``"nan"`` keeps the epoch with NaN where there
            is no data (rows stay aligned with ``times_s``); ``"drop"`` leaves it out (with its
            metadata row). Either way it is logged.
        baseline : tuple | None
            Passed to :class:`mne.EpochsArray` (default: no baseline correction).
        verbose : bool | str | int | None
            mmme and MNE log level for this call.

        Returns
        -------
        mne.EpochsArray
            ``events[:, 0]`` is each event's sample on the common-clock grid
            (``sample_index + first_samp``), ``epochs.times[0] = round(tmin * sfreq) / sfreq``,
            ``info["sfreq"]`` the drift-corrected rate :attr:`sfreq_common`.

        Examples
        --------
        >>> ses = mmme.read_store("store").session("S01")              # doctest: +SKIP
        >>> ep = ses.streams["physio"].epochs(ses.store.annotations["onset_s"], -1.0, 2.0)
        """
        if on_edge not in ("nan", "drop"):
            raise InputError(f"on_edge must be 'nan' or 'drop', got {on_edge!r}")
        t = np.atleast_1d(np.asarray(times_s, dtype=float))
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise InputError(f"{self.device}: event times must be finite numbers (1-D)")
        if tmax < tmin:
            raise InputError(f"tmax {tmax} is before tmin {tmin}")
        if metadata is not None and len(metadata) != len(t):
            raise InputError(f"metadata has {len(metadata)} rows for {len(t)} events")
        fs = self.sfreq_common
        n0, n1 = int(round(tmin * fs)), int(round(tmax * fs))  # MNE's rounding of tmin/tmax
        names = [self.ch_names[i] for i in self.picks(picks)]
        centers = self.sample_index(t)
        data = np.full((len(t), len(names), n1 - n0 + 1), np.nan)
        whole = np.ones(len(t), dtype=bool)
        with verbose_level(verbose):
            for i, c in enumerate(centers):
                a, b = int(c) + n0, int(c) + n1 + 1
                lo, hi = max(0, a), min(self.n_samples, b)
                if (lo, hi) != (a, b):
                    whole[i] = False
                    where = "lies outside" if lo >= hi else "is cut by the end of"
                    logger.info("epoch %d at %.3f s %s %s", i, t[i], where, self.device)
                if lo < hi:
                    data[i, :, lo - a : hi - a] = self.read(lo, hi, names)
        keep = whole if on_edge == "drop" else np.ones(len(t), dtype=bool)
        if not keep.any():  # MNE has no empty Epochs
            raise InputError(
                f"{self.device}: no epoch to return ({len(t)} event(s), "
                f"{int((~whole).sum())} running past the recording)"
            )
        meta = (
            pd.DataFrame(index=range(len(t))) if metadata is None
            else metadata.reset_index(drop=True).copy()
        )
        if "time_s" not in meta:
            meta["time_s"] = t
        meta = meta[keep].reset_index(drop=True)
        events = np.column_stack(
            [centers[keep] + self.first_samp, np.zeros(int(keep.sum()), np.int64),
             np.ones(int(keep.sum()), np.int64)]
        ).astype(np.int64)
        return _epochs_array(data[keep], self._info(names), events, n0 / fs, meta, baseline,
                             verbose)

    def channel_types(self, ch_names: Sequence[str] | None = None) -> list[str]:
        """MNE channel type of each channel."""
        names = self.ch_names if ch_names is None else list(ch_names)
        default = "eeg" if self.kind == "eeg" else "misc"
        return [_CHANNEL_TYPES.get(n.upper(), default) for n in names]

    def _info(self, names: Sequence[str]) -> mne.Info:
        """MNE info of some channels at the common-clock rate; EEG gets its 10-05 montage."""
        import mne

        types = self.channel_types(names)
        info = mne.create_info(list(names), self.sfreq_common, types)
        if self.kind == "eeg" and "eeg" in types:
            # the 10-05 positions live in mmme.eeg: a lazy import against the layer order, kept
            # until the montage table moves down (only EEG streams reach it)
            from mmme.eeg.channels import make_montage

            eeg = [c for c, k in zip(names, types, strict=True) if k == "eeg"]
            info.set_montage(make_montage(eeg), on_missing="ignore", verbose="error")
        return info

    def to_mne(
        self,
        start_s: float | None = None,
        stop_s: float | None = None,
        picks: Sequence[str] | str | None = None,
        verbose: bool | str | int | None = "error",
    ) -> mne.io.RawArray:
        """The window ``[start_s, stop_s)`` (common clock) as an :class:`mne.io.RawArray`.

        Only the window is read. The Raw's time axis is the common clock: ``raw.first_samp`` is
        the window's first sample on the common-clock grid (see :attr:`first_samp`), so
        ``raw.first_time`` is its common-clock time (to :attr:`grid_shift_s`, under half a
        sample) and ``info["sfreq"]`` the drift-corrected rate; ``mne.Epochs`` at events
        ``rint(t * sfreq)`` cuts the same samples as :meth:`epochs`.

        Parameters
        ----------
        start_s, stop_s : float | None
            Window on the common clock; ``None`` for the start / end of the recording (the
            whole recording as float64: 2.4 GB for 68 channels over 73 minutes, so give a
            window for long sessions).
        picks : str | list of str | None
            Channel names; ``None`` for all.
        verbose : bool | str | int | None
            MNE's log level for building the Raw.

        Examples
        --------
        >>> eeg = mmme.read_store("store").session("S01").streams["eeg"]  # doctest: +SKIP
        >>> raw = eeg.to_mne(600.0, 660.0)
        >>> events = np.c_[np.rint(onsets * raw.info["sfreq"]), 0 * onsets, 1 + 0 * onsets]
        >>> epochs = mne.Epochs(raw, events.astype(int), tmin=-1.0, tmax=2.0, baseline=None)
        """
        import mne

        names = [self.ch_names[i] for i in self.picks(picks)]
        a, b = self._window(start_s, stop_s)
        data = self.read(a, b, names)
        return mne.io.RawArray(
            data, self._info(names), first_samp=a + self.first_samp, verbose=verbose
        )


def _epochs_array(
    data: np.ndarray,
    info: mne.Info,
    events: np.ndarray,
    tmin: float,
    metadata: pd.DataFrame,
    baseline: tuple[float | None, float | None] | None,
    verbose: bool | str | int | None,
) -> mne.EpochsArray:
    """``mne.EpochsArray`` keeping every row, even two events at one sample."""
    import mne

    # MNE refuses two events at one sample; two annotated events can share an onset, and
    # every row must stay, so build on distinct placeholders and put the samples back
    repeated = len(np.unique(events[:, 0])) < len(events)
    ep = mne.EpochsArray(
        data, info,
        events=np.column_stack([np.arange(len(events)), events[:, 1:]]) if repeated else events,
        tmin=tmin, event_id={"event": 1}, metadata=metadata, baseline=baseline,
        on_missing="ignore", on_outside="ignore", verbose=mne_verbose(verbose),
    )
    if repeated:
        ep.events[:, 0] = events[:, 0]
    return ep


class FrameTable:
    """The frames of one session's video: a parquet table of time-stamped image files.

    Columns: ``trial, frame, device_time_s, time_s, stamp, path``; ``path`` is relative to
    ``root``. The table is sorted by trial and written in small row groups, so one trial's rows
    are read without the rest (650k frames of a 73-minute session are never all loaded for one
    trial).

    Examples
    --------
    >>> frames = mmme.read_store("store").session("S01").frames       # doctest: +SKIP
    >>> around_apex = frames.between(apex_s - 0.1, apex_s + 0.1)
    """

    def __init__(self, parquet: Path, root: Path, fps: float | None = None) -> None:
        self.parquet = Path(parquet)
        self.root = Path(root)
        self.fps = fps

    def __len__(self) -> int:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.parquet).metadata.num_rows)

    @property
    def table(self) -> pd.DataFrame:
        """All frames (reads the whole table)."""
        return pd.read_parquet(self.parquet)

    def trial(self, trial: str) -> pd.DataFrame:
        """Frames of one trial, ordered by frame index (reads only its row groups)."""
        df = pd.read_parquet(self.parquet, filters=[("trial", "==", str(trial))])
        return df.sort_values("frame").reset_index(drop=True)

    def between(self, start_s: float, stop_s: float) -> pd.DataFrame:
        """Frames with ``start_s <= time_s < stop_s`` on the common clock (any trial).

        This is how video is cut or epoched around an event, like a signal's
        :meth:`SignalStream.epochs`.
        """
        df = pd.read_parquet(
            self.parquet, filters=[("time_s", ">=", float(start_s)), ("time_s", "<", float(stop_s))]
        )
        return df.sort_values("time_s").reset_index(drop=True)

    def path(self, rel: str) -> Path:
        return self.root / rel


def read_image(path: Path, gray: bool = False) -> np.ndarray:
    """Read one frame image; a clear error names a missing or damaged file."""
    import cv2

    flag = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR
    img = cv2.imread(str(path), flag)
    if img is None:
        raise InputError("frame image missing or unreadable", file=str(path))
    return img


def frame_intact(path: Path) -> bool:
    """Cheap check that an image file is complete (truncated files fail), without decoding it.

    JPEG must end with the EOI marker, PNG with its IEND chunk, TIFF strips/tiles must lie inside
    the file. Unknown formats are decoded.
    """
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        with open(path, "rb") as fh:
            if suffix in (".jpg", ".jpeg"):
                head = fh.read(2)
                fh.seek(max(0, size - 64))
                tail = fh.read()
                return head == b"\xff\xd8" and b"\xff\xd9" in tail
            if suffix == ".png":
                fh.seek(max(0, size - 12))
                return fh.read()[4:8] == b"IEND"
        if suffix in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                # libtiff (OpenCV) writes the directory last: a truncated file has no page
                # left, which tifffile only logs
                if len(tif.pages) == 0:
                    return False
                for page in tif.pages:
                    ends = [
                        o + c for o, c in zip(page.dataoffsets, page.databytecounts, strict=False)
                    ]
                    if not ends or max(ends) > size:
                        return False
            return True
    except Exception:  # any parse failure of a damaged file means "not intact"
        return False
    try:
        read_image(path)
        return True
    except InputError:
        return False
