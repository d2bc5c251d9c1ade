"""A store written with StoreWriter from known clocks: signals whose values are sample indices.

Channel 0 of every stream holds the device sample index (exact in float32 below 2**24), so a cut
window says which samples it holds; the other channels are reproducible noise. Each session has
three trials with one annotated event each; event times are on the common clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.data.store import Store, StoreWriter
from mmme.data.sync import ClockMap

EEG_NAMES = ["FZ", "CZ", "OZ", "HEO"]
PHYS_NAMES = ["INDEX", "EDA", "EMG"]


def build_store(
    path: Path,
    *,
    minutes: float = 2.0,
    subjects: tuple[str, ...] = ("S01",),
    clocks: dict[str, ClockMap] | None = None,
    sfreq: float = 1000.0,
    eeg_names: list[str] | None = None,
    events: list[dict[str, Any]] | None = None,
    dataset: str = "test",
    seed: int = 0,
    sines: dict[str, tuple[float, float]] | None = None,
    devices: tuple[str, ...] = ("eeg", "physio"),
) -> Store:
    """Write a store; ``events`` (per subject, the same) default to three ME/MaE rows.

    ``sines`` replaces a channel's noise by a sinusoid: name -> (frequency Hz, amplitude).
    """
    clocks = clocks or {"eeg": ClockMap.identity(), "physio": ClockMap(0.0)}
    eeg_names = eeg_names or EEG_NAMES
    n = int(minutes * 60 * sfreq)
    rng = np.random.default_rng(seed)
    dur = minutes * 60
    if events is None:
        events = [
            {"trial": "101", "onset_s": 0.30 * dur, "apex_s": 0.30 * dur + 0.12,
             "offset_s": 0.30 * dur + 0.35, "emotion": "disgust", "type": "ME"},
            {"trial": "102", "onset_s": 0.55 * dur, "apex_s": 0.55 * dur + 0.10,
             "offset_s": 0.55 * dur + 0.30, "emotion": "happiness", "type": "ME"},
            {"trial": "103", "onset_s": 0.80 * dur, "apex_s": 0.80 * dur + 0.40,
             "offset_s": 0.80 * dur + 1.20, "emotion": "surprise", "type": "MaE"},
        ]
    with StoreWriter(path, dataset=dataset) as w:
        anns, trials = [], []
        for si, subject in enumerate(subjects):
            streams = {}
            for name, names, kind in (("eeg", eeg_names, "eeg"), ("physio", PHYS_NAMES, "physio")):
                if name not in devices:
                    continue
                mm = w.signal_file(subject, "1", name, n, len(names))
                step = 1_000_000
                for a in range(0, n, step):
                    b = min(n, a + step)
                    mm[a:b, 0] = np.arange(a, b, dtype=np.float32)
                    mm[a:b, 1:] = rng.standard_normal((b - a, len(names) - 1), dtype=np.float32)
                    for j, ch in enumerate(names):
                        if sines and ch in sines:
                            f, amp = sines[ch]
                            mm[a:b, j] = amp * np.sin(2 * np.pi * f * np.arange(a, b) / sfreq)
                mm.flush()
                del mm
                units = ["V"] * len(names) if kind == "eeg" else [""] * len(names)
                streams[name] = {"ch_names": names, "units": units, "sfreq": sfreq,
                                 "device": name, "kind": kind}
            markers = pd.DataFrame({"device": ["eeg"], "code": [101], "device_time_s": [1.0],
                                    "time_s": [1.0]})
            w.add_session(subject, "1", clocks=clocks, reference="eeg", markers=markers,
                          streams=streams)
            for k, ev in enumerate(events):
                trials.append({"subject": subject, "session": "1", "trial": ev["trial"],
                               "marker": int(ev["trial"]), "category": "clip",
                               "start_s": ev["onset_s"] - 5.0, "stop_s": ev["onset_s"] + 5.0})
                anns.append({"subject": subject, "session": "1", "marker": int(ev["trial"]),
                             "event": si * len(events) + k, **ev})
        w.add_trials(trials)
        w.add_annotations(pd.DataFrame(anns))
    return Store(path)
