"""Device clocks: start offsets, drift and jitter relative to the common clock.

The common clock is the EEG device clock (seconds since the first EEG sample). Every other device
``d`` runs its own clock; a device time ``t_d`` maps to common time by

``common_s = offset_s + t_d * (1 + drift_ppm * 1e-6)``

so ``offset_s`` is the common time of the device's time zero (its first sample or frame) and
``drift_ppm`` how much faster (>0) the true time runs than the device's clock says.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass

import numpy as np

from mmme.errors import InputError

#: The mapping every device follows, written into ``ground_truth_devices.json``.
CLOCK_FORMULA = "common_s = offset_s + device_s * (1 + drift_ppm * 1e-6)"


@dataclass(frozen=True)
class DeviceClock:
    """Clock of one device relative to the common (EEG) clock.

    Parameters
    ----------
    offset_s : float
        Common time of the device's time zero.
    drift_ppm : float
        Rate error in parts per million (see module docstring).
    jitter_s : float
        Standard deviation of the marker / frame time jitter.
    """

    offset_s: float = 0.0
    drift_ppm: float = 0.0
    jitter_s: float = 0.0

    def to_common(self, device_s: np.ndarray | float) -> np.ndarray | float:
        """Device time -> common time."""
        return self.offset_s + np.asarray(device_s, float) * (1 + self.drift_ppm * 1e-6)

    def to_device(self, common_s: np.ndarray | float) -> np.ndarray | float:
        """Common time -> device time."""
        return (np.asarray(common_s, float) - self.offset_s) / (1 + self.drift_ppm * 1e-6)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def random_clock(
    rng: np.random.Generator,
    offset_range_s: tuple[float, float],
    max_drift_ppm: float = 50.0,
    jitter_s: float = 2e-4,
) -> DeviceClock:
    """A device clock with a uniform random start offset and drift within +-``max_drift_ppm``."""
    lo, hi = offset_range_s
    if hi < lo:
        raise InputError(f"offset range {offset_range_s} is empty")
    return DeviceClock(
        offset_s=float(rng.uniform(lo, hi)),
        drift_ppm=float(rng.uniform(-max_drift_ppm, max_drift_ppm)),
        jitter_s=jitter_s,
    )


def camera_frame_times(
    duration_s: float,
    fps: float,
    rng: np.random.Generator,
    *,
    rate_loss: float = 0.03,
    jitter_s: float = 2e-4,
    drop_prob: float = 0.002,
) -> np.ndarray:
    """Capture times (device clock, from 0) of a camera running at nominal ``fps``.

    Real high-speed cameras deliver a little less than nominal (140-150 for 150 fps): each
    interval is ``1/fps * (1 + U(0, rate_loss))`` plus Gaussian jitter, and a few frames are
    dropped (``drop_prob`` per frame). The first frame is at 0.
    """
    if fps <= 0 or duration_s <= 0:
        raise InputError(f"need fps > 0 and duration > 0, got {fps}, {duration_s}")
    n_max = int(np.ceil(duration_s * fps * 1.1)) + 2
    dt = (1.0 / fps) * (1 + rng.uniform(0, rate_loss, n_max))
    dt += rng.normal(0, jitter_s, n_max)
    dt = np.maximum(dt, 0.5 / fps)
    drop = rng.random(n_max) < drop_prob
    dt[1:][drop[1:]] += 1.0 / fps  # a dropped frame leaves a double interval
    t = np.concatenate([[0.0], np.cumsum(dt)])
    return t[t < duration_s]


def stamp_ms(device_s: np.ndarray) -> np.ndarray:
    """Device times (s) -> whole milliseconds, as the camera stamps its frames."""
    return np.floor(np.asarray(device_s, float) * 1000 + 0.5).astype(np.int64)


def frame_name(start: _dt.datetime, ms_since_start: int, code: int, marker: int, ext: str) -> str:
    """File name ``YYYY-MM-DD-HH-MM-SS-mmm-CODE-MARKER.ext`` of a frame (code not padded)."""
    t = start + _dt.timedelta(milliseconds=int(ms_since_start))
    return f"{t:%Y-%m-%d-%H-%M-%S}-{t.microsecond // 1000:03d}-{code}-{marker}.{ext}"


def frame_stamp(start: _dt.datetime, ms_since_start: int, code: int) -> str:
    """Coding-file stamp ``HH-MM-SS-mmm-CODE`` of a frame (fields 4..8 of its name)."""
    t = start + _dt.timedelta(milliseconds=int(ms_since_start))
    return f"{t:%H-%M-%S}-{t.microsecond // 1000:03d}-{code}"
