"""Peripheral physiology on the common clock: ECG, PPG, RSP, EDA, SKT, EMG with planted responses.

NeuroKit2 simulates each signal's waveform at a constant rate (``ecg_simulate``, ``ppg_simulate``,
``rsp_simulate``, ``eda_simulate``, ``emg_simulate``); this module then bends them in time so that
heart rate and breathing follow a planted rate curve (time warping through the cumulative phase),
adds skin conductance responses, a skin temperature model (NeuroKit2 has none) and facial EMG
bursts, all driven by :class:`~mmme.synth.events.Response` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import neurokit2 as nk
import numpy as np

from mmme.errors import InputError
from mmme.synth.events import Response, response_shape


@dataclass(frozen=True)
class SubjectPhysiology:
    """Baselines of one simulated subject.

    Parameters
    ----------
    heart_rate : float
        Resting heart rate (bpm).
    resp_rate : float
        Resting breathing rate (breaths per minute).
    eda_level : float
        Tonic skin conductance (microsiemens).
    skt : float
        Skin temperature (deg C).
    rsa_bpm : float
        Respiratory sinus arrhythmia amplitude (bpm).
    ptt_s : float
        Pulse transit time from R peak to the finger PPG peak (s).
    """

    heart_rate: float = 70.0
    resp_rate: float = 15.0
    eda_level: float = 4.0
    skt: float = 33.0
    rsa_bpm: float = 3.0
    ptt_s: float = 0.25

    @classmethod
    def random(cls, rng: np.random.Generator) -> SubjectPhysiology:
        """A plausible random subject."""
        return cls(
            heart_rate=float(rng.uniform(60, 84)),
            resp_rate=float(rng.uniform(12, 18)),
            eda_level=float(rng.uniform(2, 9)),
            skt=float(rng.uniform(32, 34.5)),
            rsa_bpm=float(rng.uniform(1.5, 4.0)),
            ptt_s=float(rng.uniform(0.2, 0.3)),
        )


@dataclass(frozen=True)
class PhysioTruth:
    """Noise-free-ish physiology on a regular common-clock grid.

    Attributes
    ----------
    t0 : float
        Common time of sample 0.
    sfreq : float
        Sampling rate (Hz).
    signals : dict[str, np.ndarray]
        ``ECG`` (mV), ``PPG`` (V), ``RSP`` (V), ``EDA`` (uS), ``SKT A``/``SKT B`` (deg C),
        ``EMG A`` (corrugator, mV), ``EMG B`` (zygomaticus, mV).
    beats : np.ndarray
        R-peak times (common clock).
    breaths : np.ndarray
        Inhalation peak times (common clock).
    """

    t0: float
    sfreq: float
    signals: dict[str, np.ndarray]
    beats: np.ndarray
    breaths: np.ndarray

    @property
    def times(self) -> np.ndarray:
        n = len(next(iter(self.signals.values())))
        return self.t0 + np.arange(n) / self.sfreq

    def at(self, name: str, common_s: np.ndarray) -> np.ndarray:
        """Signal ``name`` linearly interpolated at common times."""
        return np.interp(common_s, self.times, self.signals[name])

    def heart_rate(self, common_s: np.ndarray) -> np.ndarray:
        """Instantaneous heart rate (bpm) from the beats, held between beats (as BIOPAC does)."""
        ibi = np.diff(self.beats)
        hr = 60.0 / ibi
        idx = np.clip(np.searchsorted(self.beats[1:], common_s, side="right") - 1, 0, len(hr) - 1)
        return hr[idx]


def _warp(base: np.ndarray, sfreq: float, phase_s: np.ndarray) -> np.ndarray:
    """Read ``base`` (constant-rate waveform) at base-time ``phase_s`` (seconds)."""
    return np.interp(phase_s, np.arange(len(base)) / sfreq, base)


def _cumulative(rate_ratio: np.ndarray, sfreq: float) -> np.ndarray:
    """Base time reached at each sample when the waveform runs at ``rate_ratio`` x its rate."""
    out = np.concatenate([[0.0], np.cumsum(rate_ratio[:-1])]) / sfreq
    return out


def _responses(responses: Sequence[Response], kind: str) -> list[Response]:
    return [r for r in responses if r.kind == kind]


def simulate_physio(
    t0: float,
    duration_s: float,
    responses: Sequence[Response],
    subject: SubjectPhysiology,
    rng: np.random.Generator,
    *,
    sfreq: float = 1000.0,
    tonic_hr: Sequence[tuple[float, float, float]] = (),
) -> PhysioTruth:
    """Simulate all peripheral signals of one session.

    Parameters
    ----------
    t0 : float
        Common time of the first sample.
    duration_s : float
        Length (s).
    responses : sequence of Response
        Planted responses; kinds ``hr_change``, ``scr``, ``breath_pause``, ``skt_drop`` and
        ``emg_burst`` (signal ``EMG A`` or ``EMG B``) are realised here, others ignored.
    subject : SubjectPhysiology
        Baselines.
    rng : np.random.Generator
        Randomness (NeuroKit2 gets integer seeds drawn from it).
    sfreq : float
        Sampling rate of the truth grid.
    tonic_hr : sequence of (start_s, end_s, delta_bpm)
        Slow heart-rate shifts over stimulus clips (ramped over 5 s).

    Returns
    -------
    PhysioTruth
    """
    if duration_s <= 0 or sfreq <= 0:
        raise InputError(f"need duration > 0 and sfreq > 0, got {duration_s}, {sfreq}")
    n = int(round(duration_s * sfreq))
    t = t0 + np.arange(n) / sfreq
    seed = lambda: int(rng.integers(0, 2**31 - 1))  # noqa: E731
    sr = int(round(sfreq))  # NeuroKit2 wants an integer rate

    # Respiration: breathmetrics waveform at the resting rate, warped by a slowly varying rate
    # that drops to zero during planted breath pauses (the breath is held).
    rr0 = subject.resp_rate
    rr = rr0 * (1 + 0.08 * _slow_noise(n, sfreq, rng, 0.03))
    for r in _responses(responses, "breath_pause"):
        rr *= 1 - response_shape(t, r, "cosine") ** 0.25 * ((t > r.onset_s) & (t < r.end_s))
    base_len = int(np.ceil(duration_s * 1.6 + 20))
    rsp_base = nk.rsp_simulate(duration=base_len, sampling_rate=sr, respiratory_rate=rr0,
                               noise=0.0, random_state=seed())
    rsp_phase = _cumulative(rr / rr0, sfreq) + 2.0
    rsp = _warp(rsp_base, sfreq, rsp_phase)
    rsp_pk = nk.rsp_peaks(rsp_base, sampling_rate=sr)[1]["RSP_Peaks"] / sfreq
    breaths = np.interp(rsp_pk, rsp_phase, t, left=np.nan, right=np.nan)
    breaths = breaths[np.isfinite(breaths) & (rsp_pk > rsp_phase[0]) & (rsp_pk < rsp_phase[-1])]

    # Heart rate: resting + RSA (in phase with breathing) + slow LF noise + planted changes.
    rsp_z = (rsp - rsp.mean()) / (rsp.std() or 1)
    hr = subject.heart_rate + subject.rsa_bpm * rsp_z + 1.5 * _slow_noise(n, sfreq, rng, 0.1)
    for a, b, delta in tonic_hr:
        ramp = np.clip(np.minimum(t - a, b - t) / 5.0, 0, 1)
        hr += delta * ramp
    for r in _responses(responses, "hr_change"):
        hr += r.amplitude * response_shape(t, r)
    hr0 = subject.heart_rate
    ecg_phase = _cumulative(hr / hr0, sfreq) + 1.0
    ecg_base = nk.ecg_simulate(duration=int(np.ceil(duration_s * 1.6 + 10)), sampling_rate=sr,
                               heart_rate=hr0, heart_rate_std=0.5, noise=0.0,
                               random_state=seed())
    ecg = _warp(ecg_base, sfreq, ecg_phase)
    rpk = nk.ecg_peaks(ecg_base, sampling_rate=sr)[1]["ECG_R_Peaks"] / sfreq
    inside = (rpk > ecg_phase[0]) & (rpk < ecg_phase[-1])
    beats = np.interp(rpk[inside], ecg_phase, t)

    # PPG: a constant-rate NeuroKit2 pulse wave whose k-th peak is moved onto beat k + PTT.
    ppg_base = nk.ppg_simulate(duration=int(np.ceil(len(beats) * 60 / hr0 + 10)), sampling_rate=sr,
                               heart_rate=hr0, frequency_modulation=0.0, ibi_randomness=0.0,
                               drift=0.0, motion_amplitude=0.0, powerline_amplitude=0.0,
                               random_state=seed())
    ppk = nk.ppg_findpeaks(ppg_base, sampling_rate=sr)["PPG_Peaks"] / sfreq
    k = min(len(ppk) - 1, len(beats))
    target = beats[:k] + subject.ptt_s
    period = 60.0 / hr0
    # extend the mapping by one nominal beat at each end so the whole grid is covered
    tx = np.concatenate([[target[0] - 50 * period], target, [target[-1] + 50 * period]])
    bx = np.concatenate([[ppk[0] - 50 * period], ppk[:k], [ppk[k - 1] + 50 * period]])
    ppg = _warp(ppg_base, sfreq, np.interp(t, tx, bx))

    # EDA: NeuroKit2 tonic level without its random SCRs, plus the planted SCRs.
    eda = nk.eda_simulate(length=n, sampling_rate=sr, scr_number=0, drift=-0.002,
                          noise=0.0, random_state=seed())[:n]
    eda = subject.eda_level + (eda - eda[0]) + 0.02 * _slow_noise(n, sfreq, rng, 0.02)
    for r in _responses(responses, "scr"):
        eda += r.amplitude * response_shape(t, r, "exp")

    # Skin temperature: slow wander, planted drops, 0.002 deg C sensor noise.
    skt = subject.skt + 0.03 * _slow_noise(n, sfreq, rng, 0.005)
    for r in _responses(responses, "skt_drop"):
        skt += r.amplitude * response_shape(t, r)
    skt_b = skt - 0.4 + 0.01 * _slow_noise(n, sfreq, rng, 0.005)

    # Facial EMG: NeuroKit2 baseline noise plus bursts shaped by the expression profile.
    emg = {}
    for ch in ("EMG A", "EMG B"):
        base = nk.emg_simulate(duration=n / sr, length=n, sampling_rate=sr, burst_number=0,
                               noise=0.01, random_state=seed())[:n]
        base = (base - base.mean()) / (base.std() or 1) * 0.005
        carrier = nk.emg_simulate(duration=n / sr, length=n, sampling_rate=sr, burst_number=1,
                                  burst_duration=n / sr * 0.99, noise=0.0,
                                  random_state=seed())[:n]
        carrier = (carrier - carrier.mean()) / (carrier.std() or 1)
        env = np.zeros(n)
        for r in _responses(responses, "emg_burst"):
            if r.signal == ch:
                env += r.amplitude * response_shape(t, r)
        emg[ch] = base + carrier * env

    signals = {
        "ECG": ecg,
        "PPG": ppg,
        "RSP": rsp,
        "EDA": eda,
        "SKT A": skt,
        "SKT B": skt_b,
        "EMG A": emg["EMG A"],
        "EMG B": emg["EMG B"],
    }
    return PhysioTruth(t0=t0, sfreq=sfreq, signals=signals, beats=beats, breaths=breaths)


def _slow_noise(n: int, sfreq: float, rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """Unit-variance Gaussian noise low-passed at ``cutoff_hz`` (FFT mask)."""
    if n < 4:
        return np.zeros(n)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sfreq)
    spec[f > max(cutoff_hz, 2 * sfreq / n)] = 0  # keep a couple of components on short signals
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    sd = x.std()
    return x / sd if sd > 0 else x
