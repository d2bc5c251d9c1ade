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

from mmme._logging import logger
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

    def times(self, start: int, stop: int) -> np.ndarray:
        """Common-clock times of samples ``start:stop``."""
        return np.asarray(self.clock.to_common(np.arange(start, stop) / self.sfreq))

    def sample_index(self, time_s: float | np.ndarray) -> np.ndarray:
        """Nearest sample index of common-clock times (may lie outside the recording)."""
        dev = np.asarray(self.clock.to_device(np.asarray(time_s, dtype=float)))
        return np.rint(dev * self.sfreq).astype(np.int64)

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
        if len(idx) == len(self.ch_names):
            return np.asarray(block, dtype=np.float64).T.copy()
        return np.asarray(block[:, idx], dtype=np.float64).T.copy()

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
        a = 0 if start_s is None else int(math.ceil(self.clock.to_device(start_s) * self.sfreq))
        b = (
            self.n_samples
            if stop_s is None
            else int(math.ceil(self.clock.to_device(stop_s) * self.sfreq))
        )
        a, b = max(0, a), min(self.n_samples, b)
        b = max(a, b)
        return self.read(a, b, picks), self.times(a, b)

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
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cut windows ``[t + tmin, t + tmax]`` around common-clock times.

        Windows running past the recording are NaN there (and logged), never shifted.

        Returns
        -------
        data : ndarray, shape (n_events, n_channels, n_times)
        rel_times : ndarray, shape (n_times,)
        """
        n0 = int(round(tmin * self.sfreq))
        n1 = int(round(tmax * self.sfreq))
        rel = np.arange(n0, n1 + 1) / self.sfreq
        idx = self.picks(picks)
        out = np.full((len(times_s), len(idx), len(rel)), np.nan)
        centers = self.sample_index(np.asarray(times_s, dtype=float))
        for i, c in enumerate(np.atleast_1d(centers)):
            a, b = c + n0, c + n1 + 1
            lo, hi = max(0, a), min(self.n_samples, b)
            if lo >= hi:
                logger.info("epoch %d at %.3f s lies outside %s", i, times_s[i], self.device)
                continue
            if (lo, hi) != (a, b):
                logger.info(
                    "epoch %d at %.3f s is cut by the end of %s", i, times_s[i], self.device
                )
            out[i, :, lo - a : hi - a] = self.read(lo, hi, picks)
        return out, rel

    def channel_types(self, ch_names: Sequence[str] | None = None) -> list[str]:
        """MNE channel type of each channel."""
        names = self.ch_names if ch_names is None else list(ch_names)
        default = "eeg" if self.kind == "eeg" else "misc"
        return [_CHANNEL_TYPES.get(n.upper(), default) for n in names]

    def to_mne(
        self,
        start_s: float | None = None,
        stop_s: float | None = None,
        picks: Sequence[str] | str | None = None,
        verbose: bool | str | None = "error",
    ) -> mne.io.RawArray:
        """The window as an :class:`mne.io.RawArray` (``first_samp`` keeps the sample offset)."""
        import mne

        names = [self.ch_names[i] for i in self.picks(picks)]
        data, times = self.get_data(start_s, stop_s, names)
        info = mne.create_info(names, self.sfreq_common, self.channel_types(names))
        first = int(self.sample_index(times[0])) if len(times) else 0
        return mne.io.RawArray(data, info, first_samp=first, verbose=verbose)


class FrameTable:
    """The frames of one session's video: a parquet table of time-stamped image files.

    Columns: ``trial, frame, device_time_s, time_s, stamp, path``; ``path`` is relative to
    ``root``. The table is sorted by trial and written in small row groups, so one trial's rows
    are read without the rest (650k frames of a 73-minute session are never all loaded for one
    trial).
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
