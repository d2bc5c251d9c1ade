"""EEG features at events and over sliding windows: MNE preprocessing, then band power and
differential entropy per channel (the authors' 5 bands). The physiology stage (mmme.physio)
computes them beside the peripheral features of the same trial or stream chunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmme.eeg.channels import make_raw
from mmme.eeg.features import BANDS, band_power, differential_entropy
from mmme.eeg.preprocess import preprocess_raw


def eeg_event_rows(stream: Any, start_s: float, stop_s: float, events: pd.DataFrame,
                    params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Band power and DE of every EEG channel (M1/M2 left out) in each event's baseline and
    response window (``params["eeg_baseline"]``, ``params["eeg_response"]``, seconds from the
    onset), after MNE preprocessing of the trial's span; the tidy rows of the physio stage's
    event table (``event, channel, kind, window, anchor, start_s, stop_s, feature, value``)."""
    data, times = stream.get_data(start_s, stop_s)
    if data.shape[1] < 10 * stream.sfreq:
        return []
    # samples are uniform on the device clock: filter at its nominal rate
    raw = make_raw(data, stream.sfreq, stream.ch_names)
    raw = preprocess_raw(raw, resample_sfreq=params["eeg_sfreq"], copy=False)
    fs = raw.info["sfreq"]
    eeg_names = [c for c, t in zip(raw.ch_names, raw.get_channel_types(), strict=True)
                 if t == "eeg" and c.upper() not in ("M1", "M2")]
    x = raw.get_data(picks=eeg_names)
    rows: list[tuple[Any, ...]] = []
    for wname in ("baseline", "response"):
        w0, w1 = params[f"eeg_{wname}"]
        n = int(round((w1 - w0) * fs))
        for e, t in zip(events["event"], events["onset_s"], strict=True):
            a = int(round((t + w0 - times[0]) * fs))
            if a < 0 or a + n > x.shape[1]:
                power = np.full((len(eeg_names), len(BANDS)), np.nan)
            else:
                power = band_power(x[:, a : a + n], fs)
            de = differential_entropy(power)
            for j, ch in enumerate(eeg_names):
                for k, band in enumerate(BANDS):
                    for fname, val in ((f"{band}_power", power[j, k]), (f"{band}_de", de[j, k])):
                        rows.append((e, ch, "eeg", wname, "onset", t + w0, t + w1, fname,
                                     float(val)))
    return rows


def eeg_window_features(
    data: np.ndarray,
    times: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    eog_names: Sequence[str],
    starts: np.ndarray,
    win_s: float,
    eeg_params: Mapping[str, object],
) -> dict[str, np.ndarray]:
    """Preprocess one chunk of EEG with MNE and return band features per window start."""
    names = [*ch_names, *eog_names]
    raw = make_raw(data, sfreq, names, first_time=0.0)
    params = {"resample_sfreq": 250.0, **eeg_params}
    raw = preprocess_raw(raw, copy=False, **params)  # type: ignore[arg-type]
    fs = raw.info["sfreq"]
    x = raw.get_data(picks=list(ch_names))
    n = int(round(win_s * fs))
    idx = np.round((starts - times[0]) * fs).astype(np.int64)
    segs = np.stack([x[:, i : i + n] for i in idx])  # (n_win, n_ch, n)
    power = band_power(segs, fs)
    de = differential_entropy(power)
    out = {}
    for j, ch in enumerate(ch_names):
        for k, band in enumerate(BANDS):
            out[f"{ch}_{band}_power"] = power[:, j, k]
            out[f"{ch}_{band}_de"] = de[:, j, k]
    return out
