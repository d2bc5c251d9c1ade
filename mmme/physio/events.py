"""Event-locked and sliding-window physiology features, as tidy tables.

Events are annotation rows (``onset_s`` and optionally ``apex_s`` on the common clock, as in
:data:`mmme.data.annotations.ANNOTATION_COLUMNS`) or any list of times. Each event gets a baseline
window before its onset and response windows after its onset / apex, per modality
(:data:`DEFAULT_WINDOWS`: the SCR window spans the 1-3 s latency of skin conductance, skin
temperature the slow drop over 15 s ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.physio.peripheral import FEATURES, ProcessedSignal, window_features

#: (anchor, start, stop) in seconds relative to the anchor ("onset" or "apex").
Window = tuple[str, float, float]

#: Default windows per kind: a baseline before onset and responses after onset / apex.
DEFAULT_WINDOWS: dict[str, dict[str, Window]] = {
    "ecg": {"baseline": ("onset", -5.0, 0.0), "response": ("onset", 0.0, 5.0),
            "apex": ("apex", -1.0, 2.0)},
    "ppg": {"baseline": ("onset", -5.0, 0.0), "response": ("onset", 0.0, 5.0),
            "apex": ("apex", -1.0, 2.0)},
    "rsp": {"baseline": ("onset", -10.0, 0.0), "response": ("onset", 0.0, 10.0)},
    "eda": {"baseline": ("onset", -5.0, 0.0), "response": ("onset", 0.0, 6.0)},
    "emg": {"baseline": ("onset", -2.0, 0.0), "response": ("onset", 0.0, 1.0),
            "apex": ("apex", -0.5, 0.5)},
    "skt": {"baseline": ("onset", -10.0, 0.0), "response": ("onset", 0.0, 15.0)},
}

TIDY_COLUMNS = (
    "event", "channel", "kind", "window", "anchor", "start_s", "stop_s", "feature", "value",
)


def event_table(events: pd.DataFrame | Iterable[float]) -> pd.DataFrame:
    """Normalise events to a DataFrame with ``event``, ``onset_s`` and ``apex_s``.

    A list of times becomes onsets (apex = onset). A DataFrame needs ``onset_s``; ``apex_s``
    (missing -> onset) and ``event`` (missing -> row number) are optional.
    """
    if isinstance(events, pd.DataFrame):
        if "onset_s" not in events:
            raise InputError("event table needs an 'onset_s' column (seconds, common clock)")
        df = pd.DataFrame({"onset_s": pd.to_numeric(events["onset_s"]).to_numpy(dtype=float)})
        apex = events["apex_s"] if "apex_s" in events else events["onset_s"]
        df["apex_s"] = pd.to_numeric(apex).to_numpy(dtype=float)
        df["apex_s"] = df["apex_s"].fillna(df["onset_s"])
        if "event" in events:
            df.insert(0, "event", events["event"].to_numpy())
        else:
            df.insert(0, "event", np.arange(len(df)))
    else:
        t = np.asarray(list(events), dtype=float)
        df = pd.DataFrame({"event": np.arange(t.size), "onset_s": t, "apex_s": t})
    bad = ~np.isfinite(df["onset_s"].to_numpy())
    if bad.any():
        raise InputError(f"event row {int(np.flatnonzero(bad)[0])}: onset_s is missing")
    return df


def _as_list(processed: ProcessedSignal | Sequence[ProcessedSignal]) -> list[ProcessedSignal]:
    return [processed] if isinstance(processed, ProcessedSignal) else list(processed)


def event_features(
    processed: ProcessedSignal | Sequence[ProcessedSignal],
    events: pd.DataFrame | Iterable[float],
    *,
    windows: Mapping[str, Mapping[str, Window]] | None = None,
    max_bad: float = 0.2,
) -> pd.DataFrame:
    """Baseline and response-window features of every channel around every event.

    Parameters
    ----------
    processed : ProcessedSignal | sequence of ProcessedSignal
        Channels from :func:`mmme.physio.process_signal` (their ``t0`` on the events' clock).
    events : DataFrame | iterable of float
        See :func:`event_table`.
    windows : mapping kind -> {window name: (anchor, start, stop)} | None
        Overrides :data:`DEFAULT_WINDOWS` per kind.
    max_bad : float
        Windows with more bad samples than this fraction give NaN values.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per event x channel x window x feature (:data:`TIDY_COLUMNS`).
    """
    ev = event_table(events)
    rows: list[tuple[Any, ...]] = []
    for proc in _as_list(processed):
        wins = dict(DEFAULT_WINDOWS[proc.kind])
        if windows is not None and proc.kind in windows:
            wins = dict(windows[proc.kind])
        for name, (anchor, w0, w1) in wins.items():
            if anchor not in ("onset", "apex"):
                raise InputError(f"window {name!r}: anchor must be 'onset' or 'apex'")
            if w1 <= w0:
                raise InputError(f"window {name!r}: stop {w1} must be after start {w0}")
            col = f"{anchor}_s"
            for e, t in zip(ev["event"], ev[col], strict=True):
                feats = window_features(proc, t + w0, t + w1, max_bad=max_bad)
                for f, v in feats.items():
                    rows.append((e, proc.channel, proc.kind, name, anchor, t + w0, t + w1, f, v))
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def event_features_wide(tidy: pd.DataFrame, *, deltas: bool = True) -> pd.DataFrame:
    """One row per event, columns ``<channel>_<window>_<feature>``.

    With ``deltas``, every non-baseline window also gets ``<channel>_<window>-baseline_<feature>``
    (response minus baseline), the usual event-related change.
    """
    t = tidy.copy()
    t["column"] = t["channel"] + "_" + t["window"] + "_" + t["feature"]
    wide = t.pivot_table(
        index="event", columns="column", values="value", aggfunc="first", dropna=False
    )
    wide.columns.name = None
    if deltas:
        extra = {}
        for (ch, win), grp in t.groupby(["channel", "window"], sort=False):
            if win == "baseline":
                continue
            for f in grp["feature"].unique():
                if f == "bad_fraction":
                    continue
                base = f"{ch}_baseline_{f}"
                if base in wide:
                    extra[f"{ch}_{win}-baseline_{f}"] = wide[f"{ch}_{win}_{f}"] - wide[base]
        if extra:
            wide = pd.concat([wide, pd.DataFrame(extra, index=wide.index)], axis=1)
    return wide.reset_index()


def sliding_features(
    processed: ProcessedSignal | Sequence[ProcessedSignal],
    start_s: float,
    stop_s: float,
    *,
    win_s: float = 2.0,
    step_s: float = 0.5,
    max_bad: float = 0.2,
) -> pd.DataFrame:
    """Features in sliding windows over ``[start_s, stop_s)`` (e.g. a whole trial, for spotting).

    Returns
    -------
    pandas.DataFrame
        One row per window: ``start_s``, ``stop_s``, ``center_s`` and ``<channel>_<feature>``.
    """
    if win_s <= 0 or step_s <= 0:
        raise InputError("win_s and step_s must be positive")
    starts = np.arange(start_s, stop_s - win_s + 1e-9, step_s)
    out = pd.DataFrame({"start_s": starts, "stop_s": starts + win_s,
                        "center_s": starts + win_s / 2})
    for proc in _as_list(processed):
        names = ["bad_fraction", *FEATURES[proc.kind]]
        vals = np.full((starts.size, len(names)), np.nan)
        for i, a in enumerate(starts):
            f = window_features(proc, a, a + win_s, max_bad=max_bad)
            vals[i] = [f[n] for n in names]
        for j, n in enumerate(names):
            out[f"{proc.channel}_{n}"] = vals[:, j]
    return out
