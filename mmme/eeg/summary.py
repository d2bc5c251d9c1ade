"""Whole-recording EEG summary for ``mmme signals --kind eeg``: relative band power per channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mne
import numpy as np

from mmme.data.quality import check_signal
from mmme.eeg.channels import channel_type, make_raw
from mmme.eeg.features import BANDS, band_power
from mmme.eeg.preprocess import preprocess_raw
from mmme.errors import InputError


def summarize_eeg(
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    *,
    ch_types: Sequence[str] | None = None,
    reference: str | None = "average",
) -> dict[str, Any]:
    """Relative band power of every EEG channel after the standard preprocessing.

    Channels typed ``eeg`` (by the file, or by name for HEO/VEO/EKG/EMG/Trigger) are kept; flat,
    NaN-filled or clipped channels are named in a warning, dropped from the average reference and
    reported with ``None`` band powers.

    Returns
    -------
    dict
        ``band_power`` = {channel: {delta, theta, alpha, beta, gamma}} (each channel sums to 1),
        ``sfreq``, ``duration_s``, ``n_channels``, ``bad_channels``.
    """
    names = list(ch_names)
    types = []
    for i, c in enumerate(names):
        inferred = channel_type(c)
        given = None if ch_types is None else ch_types[i]
        # the file's type unless the name says it is EOG/ECG/EMG/stim (EDF types everything eeg)
        types.append(inferred if inferred not in ("eeg", "misc") or given is None else given)
    eeg_idx = [i for i, t in enumerate(types) if t == "eeg"]
    if not eeg_idx:
        raise InputError(f"no EEG channel among {names}")
    x = np.asarray(data, dtype=float)
    bad = []
    for i in eeg_idx:
        rep = check_signal(x[i], sfreq, channel=names[i], kind="eeg")
        if not rep.usable or rep.problems:
            bad.append(names[i])
            x[i] = np.nan_to_num(x[i])
    raw = make_raw(x, sfreq, names, ch_types=types)
    raw.info["bads"] = bad
    good = [names[i] for i in eeg_idx if names[i] not in bad]
    if not good:
        out_bp: dict[str, Any] = {names[i]: None for i in eeg_idx}
        return {"band_power": out_bp, "sfreq": sfreq, "duration_s": x.shape[1] / sfreq,
                "n_channels": len(eeg_idx), "bad_channels": bad}
    ref = reference if reference != "average" or len(good) > 1 else None
    raw = preprocess_raw(raw, reference=ref, copy=False)
    picks = mne.pick_channels(raw.ch_names, good, ordered=True)
    power = band_power(raw.get_data(picks=picks), raw.info["sfreq"], relative=True)
    bp: dict[str, Any] = {}
    for i in eeg_idx:
        c = names[i]
        if c in good:
            row = power[good.index(c)]
            bp[c] = {b: float(v) for b, v in zip(BANDS, row, strict=True)}
        else:
            bp[c] = None
    return {"band_power": bp, "sfreq": sfreq, "duration_s": x.shape[1] / sfreq,
            "n_channels": len(eeg_idx), "bad_channels": bad}
