"""Planted events shared by the face, physiology and EEG simulators."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Response kinds and the signal each one appears in.
RESPONSE_KINDS: dict[str, str] = {
    "hr_change": "ECG",  # heart rate change (bpm, signed), also in PPG and ECG rate
    "scr": "EDA",  # skin conductance response (microsiemens)
    "breath_pause": "RSP",  # respiration holds (amplitude = pause length in s)
    "skt_drop": "SKT",  # skin temperature drop (deg C, negative)
    "emg_burst": "EMG",  # facial EMG burst (mV), EMG A corrugator or EMG B zygomaticus
    "theta_increase": "EEG",  # frontal-midline theta amplitude gain (relative, +)
    "alpha_decrease": "EEG",  # posterior alpha amplitude change (relative, -)
    "band_shift": "EEG",  # stimulus-locked band amplitude change over a clip (relative)
}


@dataclass(frozen=True)
class Response:
    """One planted physiological or EEG response on the common clock.

    Parameters
    ----------
    kind : str
        One of :data:`RESPONSE_KINDS`.
    signal : str
        Channel or channel group it shows in (``"ECG"``, ``"EDA"``, ``"RSP"``, ``"SKT A"``,
        ``"EMG A"``, ``"EEG"`` ...).
    onset_s, peak_s, end_s : float
        Common-clock times: start, largest deviation, back to baseline.
    amplitude : float
        Signed size in ``unit``.
    unit : str
        ``"bpm"``, ``"uS"``, ``"s"``, ``"degC"``, ``"mV"`` or ``"relative"``.
    event : int
        Row of ``ground_truth.csv`` (0-based) of the expression that caused it, -1 for none.
    band : str
        EEG band of ``theta_increase`` / ``alpha_decrease`` / ``band_shift``, else ``""``.
    """

    kind: str
    signal: str
    onset_s: float
    peak_s: float
    end_s: float
    amplitude: float
    unit: str
    event: int = -1
    band: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def response_shape(t: np.ndarray, r: Response, decay: str = "cosine") -> np.ndarray:
    """Unit-peak time course of a response at times ``t`` (0 outside onset..end).

    Raised-cosine rise from ``onset_s`` to ``peak_s``; the fall to ``end_s`` is raised-cosine
    (``decay="cosine"``) or exponential with a time constant of a third of the fall
    (``decay="exp"``, the SCR recovery) that reaches 0 at ``end_s``.
    """
    t = np.asarray(t, float)
    out = np.zeros_like(t)
    rise = (t > r.onset_s) & (t <= r.peak_s)
    out[rise] = 0.5 - 0.5 * np.cos(np.pi * (t[rise] - r.onset_s) / (r.peak_s - r.onset_s))
    fall = (t > r.peak_s) & (t < r.end_s)
    span = r.end_s - r.peak_s
    x = (t[fall] - r.peak_s) / span
    if decay == "exp":
        tail = np.exp(-3.0)
        out[fall] = (np.exp(-3.0 * x) - tail) / (1 - tail)
    else:
        out[fall] = 0.5 + 0.5 * np.cos(np.pi * x)
    return out
