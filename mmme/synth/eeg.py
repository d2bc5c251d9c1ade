"""64-channel Neuroscan EEG with planted event-related and emotion-related band changes.

The background is spatially smooth 1/f noise; rhythmic activity comes from band-limited sources
with topographies placed on the standard 10-05 electrode positions that ship with MNE (no
download): posterior alpha, frontal-midline theta, temporal beta and gamma. Their amplitude
envelopes carry the planted :class:`~mmme.synth.events.Response` objects: ``theta_increase`` and
``alpha_decrease`` near expression onsets, ``band_shift`` over a whole stimulus clip. HEO/VEO carry
blink artefacts (which also leak into the frontal channels), EKG the simulated ECG and EMG the
corrugator EMG.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from mmme.errors import InputError
from mmme.synth.events import Response, response_shape

#: The 64 EEG channels of the Neuroscan Quik-Cap, in recording order.
NEUROSCAN_64: tuple[str, ...] = tuple(
    "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 T7 C5 C3 "
    "C1 CZ C2 C4 C6 T8 M1 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 M2 P7 P5 P3 P1 PZ P2 P4 P6 P8 PO7 "
    "PO5 PO3 POZ PO4 PO6 PO8 CB1 O1 OZ O2 CB2".split()
)
#: Bipolar and auxiliary channels recorded with the EEG.
AUX_CHANNELS: tuple[str, ...] = ("HEO", "VEO", "EKG", "EMG")
#: All channel names of the synthetic EEG recording.
EEG_CHANNELS: tuple[str, ...] = NEUROSCAN_64 + AUX_CHANNELS
#: MNE channel types of :data:`EEG_CHANNELS`.
EEG_CH_TYPES: tuple[str, ...] = ("eeg",) * 64 + ("eog", "eog", "ecg", "emg")

#: Frequency bands (Hz) of the planted rhythms.
BANDS: dict[str, tuple[float, float]] = {
    "theta": (4.0, 7.0),
    "alpha": (8.0, 13.0),
    "beta": (14.0, 30.0),
    "gamma": (31.0, 45.0),
}

#: Stimulus category -> relative band amplitude change over the clip (before scaling).
EMOTION_BAND_SHIFTS: dict[str, dict[str, float]] = {
    "happiness": {"beta": 0.25, "gamma": 0.30},
    "sadness": {"alpha": 0.20, "beta": -0.10, "gamma": -0.15},
    "fear": {"theta": 0.25, "beta": 0.15, "alpha": -0.15},
    "anger": {"theta": 0.15, "beta": 0.20, "gamma": 0.10},
    "disgust": {"theta": 0.20, "gamma": -0.10},
    "surprise": {"theta": 0.30, "alpha": -0.20},
    "contempt": {"beta": 0.15, "alpha": -0.10},
    "calm": {"alpha": 0.25},
}

_CB = {"CB1": "I1", "CB2": "I2"}  # cerebellar electrodes are not in the 10-05 set


@functools.lru_cache(maxsize=1)
def channel_positions() -> np.ndarray:
    """(64, 3) head positions (m) of :data:`NEUROSCAN_64` from MNE's built-in 10-05 montage."""
    import warnings

    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the montage's name is being renamed in MNE
        try:
            mont = mne.channels.make_standard_montage("colin27_1005")
        except ValueError:
            mont = mne.channels.make_standard_montage("standard_1005")
    pos = mont.get_positions()["ch_pos"]
    upper = {k.upper(): v for k, v in pos.items()}
    out = np.array([upper[_CB.get(c, c)] for c in NEUROSCAN_64], float)
    out.setflags(write=False)
    return out


def _band_noise(n: int, sfreq: float, lo: float, hi: float, rng: np.random.Generator,
                k: int = 1) -> np.ndarray:
    """``k`` unit-RMS Gaussian noises band-limited to ``lo..hi`` Hz (FFT mask), shape (k, n)."""
    spec = np.fft.rfft(rng.standard_normal((k, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / sfreq)
    spec[:, (f < lo) | (f > hi)] = 0
    x = np.fft.irfft(spec, n, axis=1)
    return x / (x.std(axis=1, keepdims=True) + 1e-12)


def _pink(n: int, sfreq: float, rng: np.random.Generator, k: int, beta: float = 1.6) -> np.ndarray:
    """``k`` unit-RMS noises with a 1/f**beta power spectrum above 0.5 Hz, shape (k, n)."""
    spec = np.fft.rfft(rng.standard_normal((k, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / sfreq)
    gain = np.zeros_like(f)
    ok = (f >= 0.5) & (f <= 100)
    gain[ok] = f[ok] ** (-beta / 2)
    x = np.fft.irfft(spec * gain, n, axis=1)
    return x / (x.std(axis=1, keepdims=True) + 1e-12)


def _topo(center: str | Sequence[str], width_m: float) -> np.ndarray:
    """Gaussian weight (64,) around the mean position of the named channel(s), peak 1."""
    pos = channel_positions()
    names = [center] if isinstance(center, str) else list(center)
    c = np.mean([pos[NEUROSCAN_64.index(nm)] for nm in names], axis=0)
    d2 = ((pos - c) ** 2).sum(1)
    return np.exp(-d2 / (2 * width_m**2))


def _envelope(t: np.ndarray, responses: Sequence[Response], band: str) -> np.ndarray:
    env = np.ones_like(t)
    for r in responses:
        if r.band != band:
            continue
        if r.kind in ("theta_increase", "alpha_decrease"):
            env += r.amplitude * response_shape(t, r)
        elif r.kind == "band_shift":
            ramp = max(r.peak_s - r.onset_s, 1e-3)
            env += r.amplitude * np.clip(np.minimum(t - r.onset_s, r.end_s - t) / ramp, 0, 1)
    return np.maximum(env, 0.05)


def blink_waveform(t: np.ndarray, blinks: Sequence[tuple[float, float]]) -> np.ndarray:
    """Unit-peak vertical EOG deflection of blinks (start_s, duration_s) at times ``t``.

    The EOG bump outlasts the lid closure a little (Gaussian-smoothed closure profile).
    """
    out = np.zeros_like(np.asarray(t, float))
    for start, dur in blinks:
        mid = start + dur * 0.4
        out += np.exp(-0.5 * ((t - mid) / (dur * 0.3)) ** 2)
    return out


def simulate_eeg(
    n_samples: int,
    sfreq: float,
    responses: Sequence[Response],
    blinks: Sequence[tuple[float, float]],
    rng: np.random.Generator,
    *,
    alpha_hz: float = 10.0,
    alpha_uv: float = 12.0,
    ecg_mv: np.ndarray | None = None,
    emg_mv: np.ndarray | None = None,
) -> np.ndarray:
    """Simulate one EEG recording (device time = common time, sample k at k / sfreq).

    Parameters
    ----------
    n_samples : int
        Length in samples.
    sfreq : float
        Sampling rate (Hz).
    responses : sequence of Response
        EEG responses (kinds ``theta_increase``, ``alpha_decrease``, ``band_shift``, with
        ``band`` set); others are ignored.
    blinks : sequence of (start_s, duration_s)
        Blinks on the common clock; they drive VEO (150-250 uV) and leak into frontal channels.
    rng : np.random.Generator
        Randomness.
    alpha_hz, alpha_uv : float
        Individual alpha peak frequency and its RMS amplitude at the occipital maximum.
    ecg_mv, emg_mv : np.ndarray, optional
        ECG and EMG (mV) on the same grid, written to EKG and EMG.

    Returns
    -------
    np.ndarray
        (68, n_samples) in volts, channels in :data:`EEG_CHANNELS` order.
    """
    if n_samples < 16 or sfreq <= 0:
        raise InputError(f"EEG too short: {n_samples} samples at {sfreq} Hz")
    n = int(n_samples)
    t = np.arange(n) / sfreq
    pos = channel_positions()
    # 1/f background, spatially smoothed over neighbouring electrodes (~4 cm).
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    mix = np.exp(-d2 / (2 * 0.04**2))
    mix /= np.sqrt((mix**2).sum(1, keepdims=True))
    eeg = (mix @ _pink(n, sfreq, rng, 64)) * 8.0

    eeg_resp = [r for r in responses if r.signal == "EEG"]
    # Posterior alpha: one source per hemisphere at the subject's alpha peak.
    a_src = _band_noise(n, sfreq, alpha_hz - 1.0, alpha_hz + 1.0, rng, 2)
    a_env = _envelope(t, eeg_resp, "alpha")
    for src, centre in zip(a_src, (("O1", "PO3"), ("O2", "PO4")), strict=True):
        eeg += np.outer(_topo(centre, 0.045), src * a_env) * alpha_uv
    # Frontal-midline theta.
    th = _band_noise(n, sfreq, *BANDS["theta"], rng)[0] * _envelope(t, eeg_resp, "theta")
    eeg += np.outer(_topo(("FZ", "FCZ"), 0.04), th) * 4.0
    # Temporal / central beta and gamma.
    for band, amp, centres in (("beta", 3.0, (("C3", "T7"), ("C4", "T8"))),
                               ("gamma", 1.5, (("T7", "TP7"), ("T8", "TP8")))):
        src = _band_noise(n, sfreq, *BANDS[band], rng, 2) * _envelope(t, eeg_resp, band)
        for s, centre in zip(src, centres, strict=True):
            eeg += np.outer(_topo(centre, 0.05), s) * amp
    # Blinks: VEO plus frontal leakage; HEO gets slow saccade steps.
    blink = blink_waveform(t, blinks) * float(rng.uniform(150, 250))
    leak = np.zeros(64)
    for names, w in ((("FP1", "FP2"), 0.6), (("FPZ", "AF3", "AF4"), 0.4),
                     (("F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6", "F8"), 0.12)):
        for nm in names:
            leak[NEUROSCAN_64.index(nm)] = w
    eeg += np.outer(leak, blink)
    veo = blink + 5.0 * _pink(n, sfreq, rng, 1)[0]
    steps = np.zeros(n)
    for _ in range(int(rng.poisson(n / sfreq / 4))):
        steps[int(rng.integers(0, n)):] += rng.normal(0, 25)
    steps -= np.convolve(steps, np.ones(int(sfreq * 4)) / (sfreq * 4), mode="same")
    heo = steps + 0.05 * blink + 5.0 * _pink(n, sfreq, rng, 1)[0]
    eeg += 0.5 * np.sin(2 * np.pi * 50.0 * t + rng.uniform(0, 2 * np.pi))  # mains
    ekg = (ecg_mv * 1000.0 if ecg_mv is not None else np.zeros(n)) + rng.normal(0, 5, n)
    emg = (emg_mv * 1000.0 if emg_mv is not None else np.zeros(n)) + rng.normal(0, 2, n)
    out = np.vstack([eeg, heo, veo, ekg, emg]) * 1e-6  # uV -> V
    return out
