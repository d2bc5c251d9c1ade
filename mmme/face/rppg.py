"""Remote photoplethysmography (rPPG): a pulse signal from the colour of facial skin.

Input is the mean skin colour per frame (``(n_frames, 3)`` R, G, B, e.g. over the cheek and
forehead ROIs). Two standard projections are provided:

* POS, "plane orthogonal to skin" (Wang, den Brinker, Stuijk & de Haan 2017, IEEE TBME 64(7)),
* CHROM, chrominance-based (de Haan & Jeanne 2013, IEEE TBME 60(10)),

both with their overlap-added sliding windows as published. Heart rate is the peak of the
pulse's Welch spectrum in the physiological band. Frames without a face (NaN rows) are bridged by
linear interpolation for the projection and are NaN again in the returned pulse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.signal

from mmme.errors import InputError

RPPG_METHODS: tuple[str, ...] = ("pos", "chrom")
#: Heart-rate band searched, Hz (42-240 bpm).
HR_BAND: tuple[float, float] = (0.7, 4.0)


def _check_rgb(rgb: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(rgb, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3:
        raise InputError(f"rPPG needs an (n_frames, 3) RGB array, got shape {x.shape}")
    if fs <= 2 * HR_BAND[1] / 0.9:
        raise InputError(f"frame rate {fs} Hz is too low for rPPG (need > {2 * HR_BAND[1]:.0f})")
    missing = ~np.all(np.isfinite(x), axis=1)
    if missing.all():
        raise InputError("no frame has a face: rPPG has no skin colour to use")
    if missing.any():
        idx = np.arange(len(x))
        for c in range(3):
            x[missing, c] = np.interp(idx[missing], idx[~missing], x[~missing, c])
    if np.any(x <= 0):
        raise InputError("skin colour means must be positive (8/16-bit or linear intensities)")
    return x, missing


def _windows(n: int, fs: float, window_s: float) -> tuple[int, int]:
    win = max(int(round(window_s * fs)), 4)
    if n < win:
        raise InputError(f"{n} frames are fewer than one rPPG window ({win} frames)")
    return win, max(win // 2, 1)


def _bandpass(x: np.ndarray, fs: float, band: tuple[float, float] = HR_BAND) -> np.ndarray:
    sos = scipy.signal.butter(3, band, btype="bandpass", fs=fs, output="sos")
    return scipy.signal.sosfiltfilt(sos, x)


def rppg_pos(rgb: np.ndarray, fs: float, window_s: float = 1.6) -> np.ndarray:
    """POS pulse signal (Wang et al. 2017), band-passed to the heart-rate band.

    Parameters
    ----------
    rgb : np.ndarray
        ``(n_frames, 3)`` mean skin R, G, B per frame (NaN rows where the face is lost).
    fs : float
        Frame rate, Hz.
    window_s : float
        Sliding-window length (1.6 s in the paper).

    Returns
    -------
    np.ndarray
        ``(n_frames,)`` pulse, NaN at the frames that had no face.
    """
    x, missing = _check_rgb(rgb, fs)
    n = len(x)
    win, _ = _windows(n, fs, window_s)
    proj = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    h = np.zeros(n)
    for t in range(0, n - win + 1):  # the paper slides by one frame
        c = x[t : t + win]
        cn = c / c.mean(axis=0)
        s = cn @ proj.T
        std2 = s[:, 1].std()
        alpha = s[:, 0].std() / std2 if std2 > 0 else 0.0
        p = s[:, 0] + alpha * s[:, 1]
        h[t : t + win] += p - p.mean()
    out = _bandpass(h, fs)
    out[missing] = np.nan
    return out


def rppg_chrom(rgb: np.ndarray, fs: float, window_s: float = 1.6) -> np.ndarray:
    """CHROM pulse signal (de Haan & Jeanne 2013), Hann-windowed overlap-add.

    Parameters and return as :func:`rppg_pos`.
    """
    x, missing = _check_rgb(rgb, fs)
    n = len(x)
    win, hop = _windows(n, fs, window_s)
    out = np.zeros(n)
    hann = np.hanning(win)
    starts = list(range(0, n - win + 1, hop))
    if starts[-1] != n - win:
        starts.append(n - win)
    for t in starts:
        c = x[t : t + win]
        cn = c / c.mean(axis=0)
        xs = 3.0 * cn[:, 0] - 2.0 * cn[:, 1]
        ys = 1.5 * cn[:, 0] + cn[:, 1] - 1.5 * cn[:, 2]
        xf, yf = _bandpass_short(xs, fs), _bandpass_short(ys, fs)
        sy = yf.std()
        alpha = xf.std() / sy if sy > 0 else 0.0
        s = xf - alpha * yf
        out[t : t + win] += hann * (s - s.mean())
    out = _bandpass(out, fs)
    out[missing] = np.nan
    return out


def _bandpass_short(x: np.ndarray, fs: float) -> np.ndarray:
    # Windows are short (~50 samples at 30 fps): use a low-order filter with padding that fits.
    sos = scipy.signal.butter(2, HR_BAND, btype="bandpass", fs=fs, output="sos")
    return scipy.signal.sosfiltfilt(sos, x, padlen=min(len(x) - 1, 3 * 2 * 2))


def rppg_heart_rate(pulse: np.ndarray, fs: float, band: tuple[float, float] = HR_BAND) -> float:
    """Heart rate (bpm) at the peak of the pulse's Welch spectrum within ``band`` (Hz).

    NaN samples (no face) are bridged by linear interpolation. Returns NaN when there is nothing
    to analyse.
    """
    p = np.asarray(pulse, dtype=np.float64)
    ok = np.isfinite(p)
    if ok.sum() < fs * 2:
        return float("nan")
    if not ok.all():
        idx = np.arange(len(p))
        p = np.interp(idx, idx[ok], p[ok])
    nper = min(len(p), int(round(fs * 10)))
    # Zero-pad to 0.1 bpm resolution; the band peak is refined by parabolic interpolation.
    nfft = max(nper, int(round(fs * 600)))
    f, psd = scipy.signal.welch(p, fs=fs, nperseg=nper, nfft=nfft)
    sel = np.flatnonzero((f >= band[0]) & (f <= band[1]))
    if len(sel) == 0:
        return float("nan")
    return float(f[sel[np.argmax(psd[sel])]] * 60.0)


def rppg(rgb: np.ndarray, fs: float, method: str = "pos", window_s: float = 1.6) -> pd.DataFrame:
    """Pulse signal from skin colour, as a tidy table.

    Returns
    -------
    pandas.DataFrame
        Columns ``time_s`` (frame index / fs) and ``rPPG`` (NaN where the face is lost); the
        heart rate (bpm) is in ``df.attrs["heart_rate_bpm"]`` and the method in
        ``df.attrs["method"]``.
    """
    if method not in RPPG_METHODS:
        raise InputError(f"unknown rPPG method {method!r}; choose from {list(RPPG_METHODS)}")
    fn = rppg_pos if method == "pos" else rppg_chrom
    pulse = fn(rgb, fs, window_s)
    df = pd.DataFrame({"time_s": np.arange(len(pulse)) / fs, "rPPG": pulse})
    df.attrs["heart_rate_bpm"] = rppg_heart_rate(pulse, fs)
    df.attrs["method"] = method
    return df
