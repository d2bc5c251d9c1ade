"""Peripheral physiology with NeuroKit2: ECG, PPG, RSP, EDA, EMG and skin temperature.

One call, :func:`process_signal`, turns a raw channel into a :class:`ProcessedSignal`: the
NeuroKit2-cleaned signal and its derived series (rate, amplitude, tonic/phasic ...) plus the event
indices (R-peaks, breaths, SCRs, EMG onsets) and a quality report. Window features over any span of
the common clock come from :func:`window_features`; whole-recording HRV from :func:`hrv_features`;
the heart-rate slope used by the spotting filter from :func:`hr_slope`.

NeuroKit2's ``*_process`` functions also delineate every beat and compute phases; mmme calls the
same NeuroKit2 building blocks (``*_clean``, ``*_peaks``, ``signal_rate``, ``eda_phasic`` ...) but
skips the parts no feature uses, and processes slow signals (RSP, EDA, SKT) at 100 / 10 Hz.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import neurokit2 as nk
import numpy as np
import pandas as pd
from scipy import signal as sps

from mmme.data.quality import (
    QualityReport,
    SignalQualityWarning,
    check_signal,
    fill_bad,
    warn_quality,
)
from mmme.errors import InputError
from mmme.physio.intervals import (
    guard_samples,
    interval_interpolate,
    interval_rate,
    intervals_valid,
    nk_intervals,
    rmssd_ms,
    spans_clean,
)

#: Signal kinds mmme processes.
KINDS: tuple[str, ...] = ("ecg", "ppg", "rsp", "eda", "emg", "skt")

#: Processing rate per kind (Hz); ``None`` keeps the recording's rate. EMG is cleaned at the
#: recording rate and its amplitude envelope is then kept at :data:`EMG_ENVELOPE_SFREQ`.
PROCESS_SFREQ: dict[str, float | None] = {
    "ecg": None,
    "ppg": None,
    "rsp": 100.0,
    "eda": 100.0,
    "emg": None,
    "skt": 10.0,
}
EMG_ENVELOPE_SFREQ = 100.0

#: Window features per kind (every window also gets ``bad_fraction``).
FEATURES: dict[str, tuple[str, ...]] = {
    "ecg": ("n_beats", "hr_mean_bpm", "hr_std_bpm", "hr_slope_bpm_per_s", "rmssd_ms"),
    "ppg": ("n_beats", "hr_mean_bpm", "hr_std_bpm", "hr_slope_bpm_per_s", "rmssd_ms"),
    "rsp": (
        "n_breaths",
        "rate_mean_bpm",
        "amplitude_mean",
        "rvt_mean",
        "breath_interval_max_s",
        "breath_interval_max_latency_s",
    ),
    "eda": (
        "tonic_mean",
        "phasic_mean",
        "phasic_max",
        "n_scr",
        "scr_amplitude_max",
        "scr_onset_latency_s",
        "scr_peak_latency_s",
    ),
    "emg": ("amplitude_mean", "amplitude_max", "n_onsets", "onset_latency_s"),
    "skt": ("mean", "slope_per_min"),
}

#: Default channel name -> kind for the BIOPAC / Neuroscan names of the MMME recordings.
CHANNEL_KINDS: dict[str, str] = {
    "ECG": "ecg",
    "EKG": "ecg",
    "PPG": "ppg",
    "RSP": "rsp",
    "EDA": "eda",
    "EMG A": "emg",
    "EMG B": "emg",
    "EMG": "emg",
    "SKT A": "skt",
    "SKT B": "skt",
    "SKT": "skt",
}


@dataclass
class ProcessedSignal:
    """A channel after NeuroKit2 processing.

    Attributes
    ----------
    kind, channel : str
        Signal kind and channel name.
    sfreq : float
        Rate of ``signals`` and of the event indices (may be below the recording's rate).
    t0 : float
        Time of sample 0 in seconds (the common clock when read from a store).
    signals : pandas.DataFrame
        NeuroKit2 series (``ECG_Clean``, ``ECG_Rate``, ``EDA_Tonic`` ...); NaN on bad samples.
    events : dict of str to numpy.ndarray
        Sample indices of events (``"peaks"``, ``"troughs"``, ``"scr_onsets"``, ``"scr_peaks"``,
        ``"emg_onsets"``, ``"emg_offsets"``) and per-event values (``"scr_amplitude"``).
    bad : numpy.ndarray
        Boolean mask of samples that must not be used.
    quality : QualityReport
        The quality check of the raw channel.
    """

    kind: str
    channel: str
    sfreq: float
    t0: float
    signals: pd.DataFrame
    events: dict[str, np.ndarray] = field(default_factory=dict)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)
    quality: QualityReport | None = field(default=None, repr=False)
    usable: bool = True

    @property
    def n_samples(self) -> int:
        return len(self.signals)

    @property
    def stop_s(self) -> float:
        """Time just after the last sample."""
        return self.t0 + self.n_samples / self.sfreq

    @property
    def times(self) -> np.ndarray:
        return self.t0 + np.arange(self.n_samples) / self.sfreq

    def index(self, t: float | np.ndarray) -> np.ndarray:
        """Nearest sample index of time(s) ``t``, clipped to the signal."""
        i = np.round((np.asarray(t, dtype=float) - self.t0) * self.sfreq).astype(np.int64)
        return np.clip(i, 0, max(self.n_samples - 1, 0))

    def event_times(self, name: str) -> np.ndarray:
        """Times (s) of the events ``name`` (e.g. ``"peaks"``)."""
        idx = self.events.get(name, np.zeros(0))
        return self.t0 + np.asarray(idx, dtype=float) / self.sfreq


def resample_signal(
    signal: np.ndarray, sfreq: float, target: float | None
) -> tuple[np.ndarray, float]:
    """Anti-aliased polyphase resampling to ``target`` Hz (no-op when ``target`` is None or higher).

    Returns
    -------
    signal, sfreq : numpy.ndarray, float
        The resampled signal and its exact rate.
    """
    if target is None or target >= sfreq:
        return np.asarray(signal, dtype=float), float(sfreq)
    ratio = Fraction(target / sfreq).limit_denominator(1000)
    # padtype="line" avoids the edge transients of zero padding on signals with an offset
    out = sps.resample_poly(
        np.asarray(signal, dtype=float), ratio.numerator, ratio.denominator, padtype="line"
    )
    return out, float(sfreq) * ratio.numerator / ratio.denominator


def resample_mask(bad: np.ndarray, n_out: int) -> np.ndarray:
    """A sample of the output is bad when any input sample it covers is bad."""
    if bad.size == n_out:
        return bad.copy()
    if n_out == 0:
        return np.zeros(0, dtype=bool)
    if not bad.any():
        return np.zeros(n_out, dtype=bool)
    starts = np.floor(np.arange(n_out) * bad.size / n_out).astype(np.int64)
    return np.maximum.reduceat(bad.astype(np.uint8), starts).astype(bool)


def _peak_rate(
    peaks: np.ndarray, sfreq: float, n: int, bad: np.ndarray, kind: str
) -> np.ndarray:
    # intervals across masked samples are not intervals of the signal
    valid = intervals_valid(peaks, bad, guard_samples(kind, sfreq))
    return interval_rate(peaks, valid, sfreq, n)


def _drop_bad(idx: np.ndarray, bad: np.ndarray) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    idx = idx[(idx >= 0) & (idx < bad.size)]
    return idx[~bad[idx]]


def _process_ecg(x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool) -> tuple[dict, dict]:
    clean = np.asarray(nk.ecg_clean(x, sampling_rate=sfreq), dtype=float)
    _, info = nk.ecg_peaks(clean, sampling_rate=sfreq)
    peaks = _drop_bad(info["ECG_R_Peaks"], bad)
    cols = {"ECG_Clean": clean, "ECG_Rate": _peak_rate(peaks, sfreq, x.size, bad, "ecg")}
    if sqi and len(peaks) >= 3:
        cols["ECG_Quality"] = np.asarray(
            nk.ecg_quality(clean, rpeaks=peaks, sampling_rate=sfreq), dtype=float
        )
    return cols, {"peaks": peaks}


def _process_ppg(x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool) -> tuple[dict, dict]:
    clean = np.asarray(nk.ppg_clean(x, sampling_rate=sfreq), dtype=float)
    _, info = nk.ppg_peaks(clean, sampling_rate=sfreq)
    peaks = _drop_bad(info["PPG_Peaks"], bad)
    cols = {"PPG_Clean": clean, "PPG_Rate": _peak_rate(peaks, sfreq, x.size, bad, "ppg")}
    if sqi and len(peaks) >= 3:
        cols["PPG_Quality"] = np.asarray(
            nk.ppg_quality(clean, peaks=peaks, sampling_rate=sfreq), dtype=float
        )
    return cols, {"peaks": peaks}


def _process_rsp(x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool) -> tuple[dict, dict]:
    clean = np.asarray(nk.rsp_clean(x, sampling_rate=sfreq), dtype=float)
    _, info = nk.rsp_peaks(clean, sampling_rate=sfreq)
    peaks = np.asarray(info["RSP_Peaks"], dtype=np.int64)
    troughs = np.asarray(info["RSP_Troughs"], dtype=np.int64)
    n = x.size
    # NeuroKit2's rsp_rate is signal_rate on the troughs: breath-to-breath intervals across
    # masked samples are dropped the same way as RR intervals
    kept_troughs = _drop_bad(troughs, bad)
    guard = guard_samples("rsp", sfreq)
    rate = interval_rate(kept_troughs, intervals_valid(kept_troughs, bad, guard), sfreq, n)
    amp = _rsp_amplitude(clean, peaks, troughs, bad, guard)
    rvt = np.asarray(
        nk.rsp_rvt(clean, sampling_rate=sfreq, method="harrison2021", silent=True), dtype=float
    )
    cols = {"RSP_Clean": clean, "RSP_Rate": rate, "RSP_Amplitude": amp, "RSP_RVT": rvt}
    return cols, {"peaks": _drop_bad(peaks, bad), "troughs": kept_troughs}


def _rsp_amplitude(
    clean: np.ndarray, peaks: np.ndarray, troughs: np.ndarray, bad: np.ndarray, guard: int
) -> np.ndarray:
    """NeuroKit2's standard breath amplitude (peak minus the trough before it), interpolated
    only between breaths whose trough-to-next-peak span holds no masked sample."""
    n = clean.size
    if peaks.size < 2 or peaks.size != troughs.size or (troughs >= peaks).any():
        return np.full(n, np.nan)
    values = clean[peaks] - clean[troughs]
    # interval k (peak k -> peak k+1) needs trough k too: both breaths' amplitudes are clean
    valid = spans_clean(troughs[:-1], peaks[1:], bad, guard)
    return interval_interpolate(peaks, values, valid, n)


def _process_eda(
    x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool, scr_min_amplitude: float = 0.01
) -> tuple[dict, dict]:
    clean = np.asarray(nk.eda_clean(x, sampling_rate=sfreq), dtype=float)
    parts = nk.eda_phasic(clean, sampling_rate=sfreq, method="highpass")
    phasic = parts["EDA_Phasic"].to_numpy(dtype=float)
    _, info = nk.eda_peaks(phasic, sampling_rate=sfreq)
    onsets = np.asarray(info["SCR_Onsets"], dtype=float)
    peaks = np.asarray(info["SCR_Peaks"], dtype=float)
    amps = np.asarray(info["SCR_Amplitude"], dtype=float)
    # NeuroKit2 keeps SCRs relative to the largest one; an absolute floor (µS) drops noise
    # wiggles in recordings without any response.
    keep = np.isfinite(peaks) & np.isfinite(amps) & (amps >= scr_min_amplitude)
    onsets, peaks, amps = onsets[keep], peaks[keep], amps[keep]
    # an SCR whose onset NeuroKit2 could not find is timed by its peak
    onsets = np.where(np.isfinite(onsets), onsets, peaks).astype(np.int64)
    peaks = peaks.astype(np.int64)
    ok = ~bad[np.clip(peaks, 0, bad.size - 1)] if bad.size else np.ones(0, bool)
    cols = {
        "EDA_Clean": clean,
        "EDA_Tonic": parts["EDA_Tonic"].to_numpy(dtype=float),
        "EDA_Phasic": phasic,
    }
    events = {"scr_onsets": onsets[ok], "scr_peaks": peaks[ok], "scr_amplitude": amps[ok]}
    return cols, events


def _process_emg(
    x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool
) -> tuple[dict, dict, float, np.ndarray]:
    clean = np.asarray(nk.emg_clean(x, sampling_rate=sfreq), dtype=float)
    amp = np.asarray(nk.emg_amplitude(clean), dtype=float)
    env, env_sfreq = resample_signal(amp, sfreq, EMG_ENVELOPE_SFREQ)
    env = np.maximum(env, 0.0)
    env_bad = resample_mask(bad, env.size)
    # NeuroKit2's emg_activation logic (binarize, keep activations >= 50 ms that follow >= 50 ms
    # of rest) through its public building blocks: its per-sample pandas output loop is slow.
    # The threshold is robust (median + 5 scaled MADs of the envelope) instead of NeuroKit2's
    # 1/10 SD, which marks every sample active when the resting envelope is not near zero.
    onsets = offsets = np.zeros(0, dtype=np.int64)
    good = env[~env_bad]
    mad = float(np.median(np.abs(good - np.median(good)))) if good.size else 0.0
    if good.size and mad > 0:
        thr = float(np.median(good)) + 5.0 * 1.4826 * mad
        active = np.asarray(nk.signal_binarize(env, method="threshold", threshold=thr), dtype=float)
        active[env_bad] = 0.0
        dmin = max(int(round(0.05 * env_sfreq)), 1)
        act = nk.events_find(active, threshold=0.5, threshold_keep="above", duration_min=dmin)
        rest = nk.events_find(
            1.0 - active, threshold=0.5, threshold_keep="above", duration_min=dmin
        )
        a_on = np.asarray(act["onset"], dtype=np.int64)
        a_off = a_on + np.asarray(act["duration"], dtype=np.int64)
        r_off = np.asarray(rest["onset"], dtype=np.int64) + np.asarray(
            rest["duration"], dtype=np.int64
        )
        valid = np.isin(a_on, r_off)
        onsets, offsets = a_on[valid], np.minimum(a_off[valid], env.size - 1)
    events = {"emg_onsets": onsets, "emg_offsets": offsets}
    return {"EMG_Amplitude": env}, events, env_sfreq, env_bad


def _process_skt(x: np.ndarray, sfreq: float, bad: np.ndarray, sqi: bool) -> tuple[dict, dict]:
    # NeuroKit2 has no SKT pipeline: a 0.5 Hz low-pass keeps the slow thermal changes.
    highcut = min(0.5, 0.45 * sfreq)
    clean = np.asarray(
        nk.signal_filter(x, sampling_rate=sfreq, highcut=highcut, method="butterworth", order=2),
        dtype=float,
    )
    return {"SKT_Clean": clean}, {}


def _empty(kind: str, channel: str, sfreq: float, t0: float, n: int, report: QualityReport):
    return ProcessedSignal(
        kind=kind,
        channel=channel,
        sfreq=sfreq,
        t0=t0,
        signals=pd.DataFrame(index=pd.RangeIndex(n)),
        events={},
        bad=np.ones(n, dtype=bool),
        quality=report,
        usable=False,
    )


def process_signal(
    signal: np.ndarray,
    sfreq: float,
    kind: str,
    *,
    channel: str | None = None,
    t0: float = 0.0,
    process_sfreq: float | None | str = "default",
    sqi: bool = False,
    scr_min_amplitude: float = 0.01,
    warn: bool = True,
) -> ProcessedSignal:
    """Clean one channel and derive its series and events with NeuroKit2.

    Parameters
    ----------
    signal : numpy.ndarray
        1-D raw signal (NaN allowed: masked).
    sfreq : float
        Sampling frequency of ``signal`` in Hz.
    kind : str
        One of :data:`KINDS`.
    channel : str | None
        Name used in warnings and tables (defaults to the kind in upper case).
    t0 : float
        Time of the first sample (common clock).
    process_sfreq : float | None | "default"
        Rate to process at; ``"default"`` uses :data:`PROCESS_SFREQ`, ``None`` the native rate.
    sqi : bool
        Add NeuroKit2's signal quality index (ECG ``averageQRS``, PPG ``templatematch``).
    scr_min_amplitude : float
        SCRs smaller than this (µS) are dropped.
    warn : bool
        Emit :class:`~mmme.data.quality.SignalQualityWarning` for problems.

    Returns
    -------
    ProcessedSignal
        ``usable=False`` with empty signals when the channel is flat, NaN-filled or too clipped.

    Raises
    ------
    InputError
        Unknown kind, non-positive rate, a rate too low for the kind, or a non-1-D signal.
    """
    if kind not in KINDS:
        raise InputError(f"unknown signal kind {kind!r}; expected one of {KINDS}", channel=channel)
    channel = channel or kind.upper()
    if not sfreq or sfreq <= 0:
        raise InputError(f"sampling frequency must be positive, got {sfreq}", channel=channel)
    x = np.asarray(signal, dtype=float)
    if x.ndim != 1:
        raise InputError(f"expected a 1-D signal, got shape {x.shape}", channel=channel)
    min_sfreq = {"ecg": 100.0, "ppg": 20.0, "emg": 250.0}.get(kind, 5.0)
    if sfreq < min_sfreq:
        raise InputError(
            f"{kind} needs a sampling rate of at least {min_sfreq:g} Hz, got {sfreq:g}",
            channel=channel,
        )
    report = check_signal(x, sfreq, channel=channel, kind=kind, warn=warn)
    target = PROCESS_SFREQ[kind] if process_sfreq == "default" else process_sfreq
    if not report.usable:
        n_out = x.size if target is None or target >= sfreq else int(
            np.ceil(x.size * target / sfreq)
        )
        return _empty(kind, channel, min(sfreq, target or sfreq), t0, n_out, report)
    filled = fill_bad(x, report.bad)
    xs, fs = resample_signal(filled, sfreq, target)  # type: ignore[arg-type]
    bad = resample_mask(report.bad, xs.size)
    try:
        with warnings.catch_warnings():
            # NeuroKit2 warns about short signals / few peaks; mmme reports quality itself
            warnings.simplefilter("ignore", category=RuntimeWarning)
            warnings.filterwarnings("ignore", module="neurokit2")
            if kind == "emg":
                cols, events, fs, bad = _process_emg(xs, fs, bad, sqi)
            elif kind == "eda":
                cols, events = _process_eda(xs, fs, bad, sqi, scr_min_amplitude)
            else:
                fn = {
                    "ecg": _process_ecg,
                    "ppg": _process_ppg,
                    "rsp": _process_rsp,
                    "skt": _process_skt,
                }[kind]
                cols, events = fn(xs, fs, bad, sqi)
    except (ValueError, IndexError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        report.problems.append(f"processing_failed: {exc}")
        report.usable = False
        if warn:
            warn_quality(report)
        return _empty(kind, channel, fs, t0, xs.size, report)
    df = pd.DataFrame(cols)
    if bad.any():
        df.loc[bad, :] = np.nan
    return ProcessedSignal(
        kind=kind,
        channel=channel,
        sfreq=fs,
        t0=t0,
        signals=df,
        events=events,
        bad=bad,
        quality=report,
        usable=True,
    )


# ------------------------------------------------------------------------------------------------
# Window features
# ------------------------------------------------------------------------------------------------


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def _slope(y: np.ndarray, sfreq: float, max_points: int = 500) -> float:
    """Least-squares slope (units per second) of the finite samples of ``y``."""
    step = max(1, y.size // max_points)
    t = np.arange(0, y.size, step) / sfreq
    v = y[::step]
    ok = np.isfinite(v)
    if ok.sum() < 3 or np.ptp(t[ok]) == 0:
        return float("nan")
    return float(np.polyfit(t[ok], v[ok], 1)[0])


def _in_window(idx: np.ndarray, a: int, b: int) -> np.ndarray:
    idx = np.asarray(idx)
    return (idx >= a) & (idx < b)


def longest_breath_interval(
    peaks: np.ndarray, bad: np.ndarray, lo: int, hi: int, guard: int = 0
) -> tuple[int, int]:
    """Longest interval between consecutive breath peaks that ends in samples ``[lo, hi)``.

    A breath pause (apnoea, a held breath) lengthens the interval from the last breath before it
    to the first one after it, so the interval is counted in the window where the breathing
    resumes. Intervals touching a bad sample (or within ``guard`` samples of one,
    :func:`mmme.physio.intervals.intervals_valid`) are skipped: a masked breath would look like
    a pause.

    Parameters
    ----------
    peaks : numpy.ndarray
        Breath peak (end of inhalation) sample indices, e.g. NeuroKit2's ``RSP_Peaks``.
    bad : numpy.ndarray
        Boolean mask of bad samples (may be empty: none bad).
    lo, hi : int
        The window in samples.
    guard : int
        Samples around a bad stretch where breath peaks are not trusted.

    Returns
    -------
    length, start : int, int
        Length in samples and sample of the opening peak; ``(0, -1)`` when no interval ends in
        the window.
    """
    pk = np.sort(np.asarray(peaks, dtype=np.int64))
    if pk.size < 2:
        return 0, -1
    a, b = pk[:-1], pk[1:]
    sel = (b >= lo) & (b < hi)
    if bad.size and bad.any():
        sel &= intervals_valid(pk, bad, guard)
    if not sel.any():
        return 0, -1
    gaps = b[sel] - a[sel]
    i = int(np.argmax(gaps))
    return int(gaps[i]), int(a[sel][i])


def window_features(
    proc: ProcessedSignal, start_s: float, stop_s: float, *, max_bad: float = 0.2
) -> dict[str, float]:
    """Features of one channel over ``[start_s, stop_s)`` (seconds, same clock as ``proc.t0``).

    Latencies (``*_latency_s``) are seconds from ``start_s`` to the first event in the window, so
    a response window starting at an expression's onset gives the latency after onset.
    RR and breath-to-breath intervals touching a masked sample (or within
    :data:`~mmme.physio.intervals.GUARD_S` of one) are left out of RMSSD, of the rates and of
    the longest breath interval (:mod:`mmme.physio.intervals`).
    Respiration's ``breath_interval_max_s`` is the longest inter-breath interval ending in the
    window (a breath pause shows as one long interval, :func:`longest_breath_interval`) and
    ``breath_interval_max_latency_s`` the time from ``start_s`` to the breath that opens it.

    Parameters
    ----------
    proc : ProcessedSignal
        Output of :func:`process_signal`.
    start_s, stop_s : float
        The window.
    max_bad : float
        Windows with more bad (or outside-the-recording) samples than this fraction give NaN.

    Returns
    -------
    dict
        ``bad_fraction`` plus the names of :data:`FEATURES` for the kind; NaN where masked.
    """
    names = FEATURES[proc.kind]
    out: dict[str, float] = dict.fromkeys(names, float("nan"))
    fs = proc.sfreq
    a = int(np.round((start_s - proc.t0) * fs))
    b = int(np.round((stop_s - proc.t0) * fs))
    n_win = b - a
    if n_win <= 0:
        out["bad_fraction"] = 1.0
        return out
    lo, hi = max(a, 0), min(b, proc.n_samples)
    n_bad = n_win - max(hi - lo, 0)  # outside the recording counts as bad
    if hi > lo:
        n_bad += int(proc.bad[lo:hi].sum()) if proc.bad.size else 0
    bad_fraction = n_bad / n_win
    out["bad_fraction"] = float(bad_fraction)
    if not proc.usable or bad_fraction > max_bad or hi <= lo:
        return out
    sig = proc.signals.iloc[lo:hi]
    ev = proc.events
    k = proc.kind
    if k in ("ecg", "ppg"):
        col = "ECG_Rate" if k == "ecg" else "PPG_Rate"
        rate = sig[col].to_numpy()
        peaks = np.asarray(ev.get("peaks", []))
        inw = peaks[_in_window(peaks, lo, hi)]
        out["n_beats"] = float(inw.size)
        out["hr_mean_bpm"] = _nanmean(rate)
        finite = rate[np.isfinite(rate)]
        out["hr_std_bpm"] = float(finite.std()) if finite.size else float("nan")
        out["hr_slope_bpm_per_s"] = _slope(rate, fs)
        valid = intervals_valid(inw, proc.bad, guard_samples(k, fs))
        out["rmssd_ms"] = rmssd_ms(inw, valid, fs)
    elif k == "rsp":
        peaks = np.asarray(ev.get("peaks", []))
        out["n_breaths"] = float(_in_window(peaks, lo, hi).sum())
        out["rate_mean_bpm"] = _nanmean(sig["RSP_Rate"].to_numpy())
        out["amplitude_mean"] = _nanmean(sig["RSP_Amplitude"].to_numpy())
        out["rvt_mean"] = _nanmean(sig["RSP_RVT"].to_numpy())
        gap, opened = longest_breath_interval(
            peaks, proc.bad, lo, hi, guard_samples("rsp", fs)
        )
        if gap:
            out["breath_interval_max_s"] = gap / fs
            # negative when the last breath before the pause came before the window
            out["breath_interval_max_latency_s"] = (opened - a) / fs
    elif k == "eda":
        phasic = sig["EDA_Phasic"].to_numpy()
        out["tonic_mean"] = _nanmean(sig["EDA_Tonic"].to_numpy())
        out["phasic_mean"] = _nanmean(phasic)
        out["phasic_max"] = float(np.nanmax(phasic)) if np.isfinite(phasic).any() else np.nan
        onsets = np.asarray(ev.get("scr_onsets", []))
        sel = _in_window(onsets, lo, hi)
        out["n_scr"] = float(sel.sum())
        if sel.any():
            amps = np.asarray(ev["scr_amplitude"])[sel]
            first = int(np.argmin(onsets[sel]))
            out["scr_amplitude_max"] = float(amps.max())
            out["scr_onset_latency_s"] = float((onsets[sel][first] - a) / fs)
            out["scr_peak_latency_s"] = float((np.asarray(ev["scr_peaks"])[sel][first] - a) / fs)
        else:
            out["scr_amplitude_max"] = 0.0
    elif k == "emg":
        amp = sig["EMG_Amplitude"].to_numpy()
        out["amplitude_mean"] = _nanmean(amp)
        out["amplitude_max"] = float(np.nanmax(amp)) if np.isfinite(amp).any() else np.nan
        onsets = np.asarray(ev.get("emg_onsets", []))
        sel = onsets[_in_window(onsets, lo, hi)]
        out["n_onsets"] = float(sel.size)
        if sel.size:
            out["onset_latency_s"] = float((sel.min() - a) / fs)
    elif k == "skt":
        y = sig["SKT_Clean"].to_numpy()
        out["mean"] = _nanmean(y)
        out["slope_per_min"] = _slope(y, fs) * 60.0
    return out


# ------------------------------------------------------------------------------------------------
# Heart rate: HRV and slope
# ------------------------------------------------------------------------------------------------


def hrv_features(
    proc: ProcessedSignal,
    domains: tuple[str, ...] = ("time", "frequency", "nonlinear"),
) -> dict[str, float]:
    """HRV indices of the whole processed ECG/PPG with NeuroKit2 (``HRV_RMSSD``, ``HRV_LF`` ...).

    Frequency-domain indices need minutes of data (NeuroKit2 returns NaN otherwise); indices that
    NeuroKit2 cannot compute are NaN. RR intervals touching masked samples are left out
    (:func:`mmme.physio.intervals.intervals_valid`). An unusable channel, or one with fewer
    than 9 valid intervals, gives an empty dict.
    """
    if proc.kind not in ("ecg", "ppg"):
        raise InputError(f"HRV needs an ECG or PPG channel, got {proc.kind}", channel=proc.channel)
    peaks = np.asarray(proc.events.get("peaks", []), dtype=np.int64)
    valid = intervals_valid(peaks, proc.bad, guard_samples(proc.kind, proc.sfreq))
    if not proc.usable or valid.sum() < 9:
        return {}
    # NaN marks the intervals across masked samples: NeuroKit2 then takes successive
    # differences only between adjacent intervals that remain (frequency-domain indices
    # interpolate the interval series over the gap)
    rri = nk_intervals(peaks, valid, proc.sfreq)
    funcs = {"time": nk.hrv_time, "frequency": nk.hrv_frequency, "nonlinear": nk.hrv_nonlinear}
    out: dict[str, float] = {}
    for d in domains:
        if d not in funcs:
            raise InputError(f"unknown HRV domain {d!r}; expected one of {tuple(funcs)}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = funcs[d](rri, sampling_rate=proc.sfreq)
        except (ValueError, IndexError, ZeroDivisionError) as exc:
            warnings.warn(
                f"channel {proc.channel!r}: HRV {d} indices failed ({exc}); set to NaN",
                SignalQualityWarning,
                stacklevel=2,
            )
            continue
        for c in df.columns:
            v = df[c].iloc[0]
            out[c] = float(v) if np.isscalar(v) and np.isreal(v) else float("nan")
    return out


def hr_slope(proc: ProcessedSignal, smooth_s: float = 1.0) -> np.ndarray:
    """Heart-rate slope (bpm per second) at every sample of a processed ECG/PPG.

    The instantaneous rate (NeuroKit2's interpolated ``*_Rate``) is differentiated with a
    Savitzky-Golay filter of ``smooth_s`` seconds. NaN where the rate is masked.
    """
    if proc.kind not in ("ecg", "ppg"):
        raise InputError(f"HR slope needs ECG or PPG, got {proc.kind}", channel=proc.channel)
    col = "ECG_Rate" if proc.kind == "ecg" else "PPG_Rate"
    if not proc.usable or col not in proc.signals:
        return np.full(proc.n_samples, np.nan)
    rate = proc.signals[col].to_numpy(dtype=float)
    win = int(round(smooth_s * proc.sfreq)) | 1
    if win < 5 or rate.size < win:
        return np.gradient(rate, 1.0 / proc.sfreq) if rate.size > 1 else np.full(rate.size, np.nan)
    return sps.savgol_filter(rate, win, polyorder=2, deriv=1, delta=1.0 / proc.sfreq)


def hr_slope_at(
    proc: ProcessedSignal, times_s: Any, smooth_s: float = 1.0
) -> np.ndarray:
    """HR slope (bpm/s) at the given times (nearest sample); NaN outside the recording."""
    t = np.atleast_1d(np.asarray(times_s, dtype=float))
    slope = hr_slope(proc, smooth_s)
    out = slope[proc.index(t)] if slope.size else np.full(t.size, np.nan)
    outside = (t < proc.t0) | (t >= proc.stop_s)
    return np.where(outside, np.nan, out)


def hr_slope_filter(
    proc: ProcessedSignal,
    candidates_s: Any,
    start_s: float,
    stop_s: float,
    *,
    factor: float = 2.0,
    smooth_s: float = 1.0,
) -> np.ndarray:
    """Keep spotting candidates whose HR slope exceeds ``factor`` x the trial's mean slope.

    The published face + ECG spotting filter keeps a candidate when the heart-rate slope at its
    apex exceeds 2.0 x the trial's mean slope. Slopes are compared in absolute value (a heart
    rate can rise or fall with an expression). Candidates where the slope is masked are kept, so
    missing ECG never removes a face candidate.

    Returns
    -------
    numpy.ndarray of bool
        One flag per candidate.
    """
    slope = hr_slope(proc, smooth_s)
    a, b = proc.index(start_s), proc.index(stop_s)
    trial = np.abs(slope[int(a) : int(b) + 1])
    ref = _nanmean(trial)
    at = np.abs(hr_slope_at(proc, candidates_s, smooth_s))
    keep = at > factor * ref
    return np.where(np.isfinite(at) & np.isfinite(ref), keep, True)


def summarize_signal(
    signal: np.ndarray,
    sfreq: float,
    kind: str,
    *,
    channel: str | None = None,
    hrv: bool = True,
) -> dict[str, Any]:
    """Whole-recording summary of one channel, as printed by ``mmme signals``.

    Keys: ecg/ppg ``n_beats``, ``hr_mean_bpm``, ``rmssd_ms`` (+ ``hrv``); rsp ``rate_mean_bpm``;
    eda ``n_scr``, ``tonic_mean``; emg ``amplitude_mean``, ``n_onsets``; skt ``mean``,
    ``slope_per_min``; always ``channel``, ``kind``, ``duration_s``, ``quality``. Masked values
    are ``None``.
    """
    proc = process_signal(signal, sfreq, kind, channel=channel, sqi=kind in ("ecg", "ppg"))
    feats = window_features(proc, proc.t0, proc.stop_s, max_bad=0.5)
    out: dict[str, Any] = {
        "channel": proc.channel,
        "kind": kind,
        "duration_s": len(signal) / sfreq,
    }
    for k, v in feats.items():
        out[k] = None if not np.isfinite(v) else (int(v) if k.startswith("n_") else v)
    if kind in ("ecg", "ppg") and hrv:
        out["hrv"] = {
            k: (v if np.isfinite(v) else None) for k, v in hrv_features(proc).items()
        }
        q = f"{kind.upper()}_Quality"
        if q in proc.signals:
            sqi_mean = _nanmean(proc.signals[q].to_numpy())
            out["sqi_mean"] = sqi_mean if np.isfinite(sqi_mean) else None
    assert proc.quality is not None
    out["quality"] = proc.quality.to_dict()
    return out
