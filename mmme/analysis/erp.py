"""Event-locked time courses: peripheral measures and EEG band power around expressions.

Each trial's channels are processed over the trial span plus a padding (NeuroKit2 through
:func:`mmme.physio.peripheral.process_signal`; EEG band power as the squared Hilbert envelope of
the band-passed signal), wrapped with :meth:`mmme.data.SignalStream.from_array` and cut by the one
epoch cutter (:meth:`~mmme.data.SignalStream.epochs`) at four kinds of times (*locks*):

``ME onset``, ``ME apex``, ``MaE onset``
    The coded onsets/apexes of the expressions.
``random``
    One time per expression, drawn uniformly inside the same trial at least ``random_clear_s``
    away from every coded onset and apex of the trial: the matched non-expression control. Event
    ``i`` and its random time share the trial, so they are paired. The clearance (15 s) exceeds
    the peripheral epoch (10 s) because autonomic responses and their filtered tails last that
    long: a "random" time a
    second after an expression sits on its response, and one a few seconds before the next
    expression holds that one in its window, so the control would not be a control. Where a
    trial leaves no room the random time is missing (NaN) and ``analysis.json`` counts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.streams import SignalStream
from mmme.physio.peripheral import CHANNEL_KINDS, hr_slope, process_signal

#: Peripheral measure -> (channel kind, NeuroKit2 column, unit).
MEASURES: dict[str, tuple[str, str, str]] = {
    "HR": ("ecg", "ECG_Rate", "bpm"),
    "EDA phasic": ("eda", "EDA_Phasic", "µS"),
    "RSP amplitude": ("rsp", "RSP_Amplitude", "a.u."),
    "SKT": ("skt", "SKT_Clean", "°C"),
}
#: Locks (name -> (annotation type, time column)); ``random`` is drawn per expression.
LOCKS: dict[str, tuple[str, str]] = {
    "ME onset": ("ME", "onset_s"),
    "ME apex": ("ME", "apex_s"),
    "MaE onset": ("MaE", "onset_s"),
}
#: EEG regions by channel-name prefix (longest prefix wins).
REGION_PREFIXES: dict[str, str] = {
    "FP": "frontal", "AF": "frontal", "F": "frontal", "FC": "central", "C": "central",
    "FT": "temporal", "T": "temporal", "TP": "temporal", "CP": "parietal", "P": "parietal",
    "PO": "occipital", "O": "occipital", "CB": "occipital",
}
#: Bands whose power time course is analysed (Hz).
EEG_BANDS: dict[str, tuple[float, float]] = {
    "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0),
}
NON_EEG = ("M1", "M2", "HEO", "VEO", "EKG", "EMG")

DEFAULT_PARAMS: dict[str, Any] = {
    "tmin": -2.0,            # peripheral epoch (s)
    "tmax": 10.0,
    "baseline": [-2.0, 0.0],
    "response": [0.5, 8.0],  # window of the response size (s after the lock)
    "grid_hz": 10.0,         # peripheral curves are kept on this grid
    "pad_s": 20.0,           # processed around each trial so filters settle
    "eeg": True,
    "eeg_tmin": -1.0,
    "eeg_tmax": 2.0,
    "eeg_baseline": [-1.0, 0.0],
    "eeg_response": [0.0, 1.5],
    "eeg_grid_hz": 20.0,
    "eeg_pad_s": 3.0,
    "random_clear_s": 15.0,  # no coded onset/apex within this of a random time
    "seed": 0,
}


def region_of(name: str) -> str | None:
    """Scalp region of a 10-05 channel name (``"FC3"`` -> ``"central"``), ``None`` if unknown."""
    n = name.upper()
    for k in sorted(REGION_PREFIXES, key=len, reverse=True):
        if n.startswith(k) and (len(n) == len(k) or n[len(k):].rstrip("Z").isdigit()
                                or n[len(k):] == "Z"):
            return REGION_PREFIXES[k]
    return None


@dataclass
class TrialEpochs:
    """Event-locked curves of one trial.

    Attributes
    ----------
    events : pandas.DataFrame
        One row per locked time: ``subject, session, trial, event, lock, time_s, pair``
        (``pair`` = the expression's event id a random time is matched to, and the event's own
        id otherwise), plus ``intensity`` (NaN here; filled from the face results) and
        ``hr_slope_apex, hr_slope_trial`` for ME apexes.
    curves : dict
        Measure -> ``(n_events, n_grid)`` baseline-corrected curves (NaN where missing).
    eeg : numpy.ndarray | None
        ``(n_events, n_bands, n_channels, n_eeg_grid)`` band power change in dB.
    """

    events: pd.DataFrame
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    eeg: np.ndarray | None = None
    eeg_channels: list[str] = field(default_factory=list)


def random_times(ann: pd.DataFrame, start_s: float, stop_s: float, n: int, gap_s: float,
                 rng: np.random.Generator) -> np.ndarray:
    """``n`` times in ``[start_s, stop_s]`` at least ``gap_s`` from every coded onset/apex.

    Returns fewer (NaN-padded) when the trial leaves no room.
    """
    coded = pd.concat([ann["onset_s"], ann["apex_s"]]).dropna().to_numpy(dtype=float)
    grid = np.arange(start_s, stop_s, 0.01)
    if coded.size:
        grid = grid[np.min(np.abs(grid[:, None] - coded[None, :]), axis=1) >= gap_s]
    out = np.full(n, np.nan)
    if grid.size and n:
        out[:] = rng.choice(grid, size=n, replace=grid.size < n)
    return out


def _grid(tmin: float, tmax: float, hz: float) -> np.ndarray:
    return np.round(np.arange(round(tmin * hz), round(tmax * hz) + 1) / hz, 6)


def _epoch(values: np.ndarray, sfreq: float, t0: float, times: np.ndarray, tmin: float,
           tmax: float, grid: np.ndarray, baseline: tuple[float, float], log: bool = False,
           names: list[str] | None = None) -> np.ndarray:
    """Cut ``values`` (n_ch, n) at ``times`` with the store's cutter, put on ``grid``,
    baseline-corrected (difference, or dB when ``log``): ``(n_events, n_ch, n_grid)``."""
    names = names or [f"x{i}" for i in range(values.shape[0])]
    n_ev = times.size
    out = np.full((n_ev, values.shape[0], grid.size), np.nan)
    ok = np.isfinite(times)
    if not ok.any():
        return out
    stream = SignalStream.from_array(values, sfreq, names, first_time=t0)
    ep = stream.epochs(times[ok], tmin, tmax, on_edge="nan", verbose=False)
    data = ep.get_data(copy=False)  # (n, ch, t)
    et = ep.times
    # bin onto the grid: mean of the samples within half a grid step
    step = grid[1] - grid[0] if grid.size > 1 else 1.0
    idx = np.clip(np.round((et - grid[0]) / step).astype(int), 0, grid.size - 1)
    counts = np.bincount(idx, minlength=grid.size).astype(float)
    binned = np.full((data.shape[0], data.shape[1], grid.size), np.nan)
    with np.errstate(invalid="ignore"):
        for g in np.flatnonzero(counts):
            sel = data[:, :, idx == g]
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    binned[:, :, g] = np.nanmean(sel, axis=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bmask = (grid >= baseline[0]) & (grid <= baseline[1])
        base = np.nanmean(binned[:, :, bmask], axis=2, keepdims=True)
        if log:
            with np.errstate(all="ignore"):
                binned = 10 * np.log10(binned / base)
        else:
            binned = binned - base
    out[ok] = binned
    return out


def _lock_table(ann: pd.DataFrame, start_s: float, stop_s: float, params: dict[str, Any],
                rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for lock, (typ, col) in LOCKS.items():
        sel = ann[(ann["type"] == typ) & ann[col].notna()]
        for a in sel.itertuples():
            rows.append({"event": int(a.event), "lock": lock, "time_s": float(getattr(a, col)),
                         "pair": int(a.event)})
    expr = ann[ann["type"].isin(["ME", "MaE"]) & ann["onset_s"].notna()]
    rt = random_times(ann, start_s, stop_s, len(expr), params["random_clear_s"], rng)
    for a, t in zip(expr.itertuples(), rt, strict=True):
        rows.append({"event": -1, "lock": "random", "time_s": float(t), "pair": int(a.event)})
    return pd.DataFrame(rows, columns=["event", "lock", "time_s", "pair"])


def trial_epochs(store: Any, subject: str, session: str, trial: str,
                 params: dict[str, Any]) -> TrialEpochs:
    """Event-locked curves of one trial (see the module docstring)."""
    tr = store.trial(subject, session, trial)
    ses = store.session(subject, session)
    ann = tr.annotations
    seed = np.random.SeedSequence([int(params["seed"]), *[ord(c) for c in
                                   f"{subject}/{session}/{trial}"]])
    rng = np.random.default_rng(seed)
    ev = _lock_table(ann, tr.start_s, tr.stop_s, params, rng)
    ev.insert(0, "trial", str(trial))
    ev.insert(0, "session", str(session))
    ev.insert(0, "subject", str(subject))
    ev["hr_slope_apex"] = np.nan
    ev["hr_slope_trial"] = np.nan
    times = ev["time_s"].to_numpy(dtype=float)
    grid = _grid(params["tmin"], params["tmax"], params["grid_hz"])
    out = TrialEpochs(ev)
    if not len(ev):
        return out
    pad = float(params["pad_s"])
    has_physio = any(s.kind != "eeg" for s in ses.streams.values())
    wanted = {kind: m for m, (kind, _, _) in MEASURES.items()}
    done: set[str] = set()
    for s in ses.streams.values():
        for c in s.ch_names:
            kind = CHANNEL_KINDS.get(c)
            if kind not in wanted or kind in done or (s.kind == "eeg" and has_physio):
                continue
            measure = wanted[kind]
            col = MEASURES[measure][1]
            data, tt = s.get_data(tr.start_s - pad, tr.stop_s + pad, [c])
            if data.shape[1] < 10:
                continue
            proc = process_signal(data[0], s.sfreq, kind, channel=c, t0=float(tt[0]), warn=False)
            if not proc.usable or col not in proc.signals:
                continue
            done.add(kind)
            vals = proc.signals[col].to_numpy(dtype=float)[None, :]
            out.curves[measure] = _epoch(vals, proc.sfreq, proc.t0, times, params["tmin"],
                                         params["tmax"], grid, tuple(params["baseline"]))[:, 0]
            if kind == "ecg":
                slope = np.abs(hr_slope(proc))
                a, b = proc.index(tr.start_s), proc.index(tr.stop_s)
                trial_mean = float(np.nanmean(slope[int(a):int(b) + 1]))
                apex = (ev["lock"] == "ME apex").to_numpy()
                inside = np.isfinite(times) & (times >= proc.t0) & (times < proc.stop_s)
                at = np.full(times.size, np.nan)
                at[inside] = slope[proc.index(times[inside])]
                ev.loc[apex, "hr_slope_apex"] = at[apex]
                ev.loc[apex, "hr_slope_trial"] = trial_mean
    for measure in MEASURES:
        out.curves.setdefault(measure, np.full((len(ev), grid.size), np.nan))
    if params.get("eeg") and "eeg" in ses.streams:
        out.eeg, out.eeg_channels = _eeg_epochs(ses.streams["eeg"], tr, times, params)
    return out


def _eeg_epochs(stream: SignalStream, tr: Any, times: np.ndarray,
                params: dict[str, Any]) -> tuple[np.ndarray, list[str]]:

    pad = float(params["eeg_pad_s"])
    picks = [c for c in stream.ch_names if c not in NON_EEG and region_of(c)]
    raw = stream.to_mne(tr.start_s - pad, tr.stop_s + pad)
    raw.pick(picks)
    grid = _grid(params["eeg_tmin"], params["eeg_tmax"], params["eeg_grid_hz"])
    out = np.full((times.size, len(EEG_BANDS), len(picks), grid.size), np.nan)
    sf = raw.info["sfreq"]
    for b, (lo, hi) in enumerate(EEG_BANDS.values()):
        hi = min(hi, sf / 2 - 1)
        band = raw.copy().filter(lo, hi, verbose=False)
        band.apply_hilbert(envelope=True, verbose=False)
        power = band.get_data() ** 2
        out[:, b] = _epoch(power, sf, float(raw.first_time), times, params["eeg_tmin"],
                           params["eeg_tmax"], grid, tuple(params["eeg_baseline"]), log=True,
                           names=picks)
    return out, picks
