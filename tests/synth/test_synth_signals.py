"""Synthetic physiology and EEG: physiological ranges and planted responses at planted times."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest
from scipy.signal import welch

from mmme.errors import InputError
from mmme.synth.eeg import EEG_CHANNELS, simulate_eeg
from mmme.synth.events import Response
from mmme.synth.physio import SubjectPhysiology, simulate_physio

SF = 500.0
SUBJECT = SubjectPhysiology(heart_rate=68, resp_rate=14, eda_level=4.0, skt=33.0)
RESPONSES = [
    Response("hr_change", "ECG", 30.0, 33.0, 39.0, 10.0, "bpm"),
    Response("scr", "EDA", 31.8, 33.3, 41.0, 0.4, "uS"),  # 1.8 s after an onset at 30 s
    Response("breath_pause", "RSP", 60.0, 61.0, 63.0, 3.0, "s"),
    Response("skt_drop", "SKT A", 72.0, 80.0, 95.0, -0.15, "degC"),
    Response("emg_burst", "EMG B", 50.0, 50.15, 50.35, 0.05, "mV"),
]


@pytest.fixture(scope="module")
def physio():
    return simulate_physio(0.0, 100.0, RESPONSES, SUBJECT, np.random.default_rng(3), sfreq=SF)


def test_heart_rate_and_planted_change(physio) -> None:
    ecg = physio.signals["ECG"]
    peaks = nk.ecg_peaks(ecg, sampling_rate=int(SF))[1]["ECG_R_Peaks"] / SF
    # NeuroKit2 finds the planted beats
    assert len(peaks) == pytest.approx(len(physio.beats), abs=2)
    rate = 60 / np.diff(peaks)
    mid = peaks[1:]
    base = rate[(mid > 10) & (mid < 28)].mean()
    assert 55 < base < 85
    at_peak = rate[(mid > 32) & (mid < 34.5)].mean()
    assert at_peak - base == pytest.approx(10.0, abs=4.0)


def test_breathing_rate_and_pause(physio) -> None:
    rsp = physio.signals["RSP"]
    rate = nk.rsp_rate(nk.rsp_clean(rsp, sampling_rate=int(SF)), sampling_rate=int(SF))
    assert 10 < np.median(rate) < 20
    gaps = np.diff(physio.breaths)
    spans = [(a, b) for a, b in zip(physio.breaths[:-1], physio.breaths[1:], strict=True)]
    pause_gap = [g for g, (a, b) in zip(gaps, spans, strict=True) if a < 61.0 < b]
    # the breath around the pause lasts a normal cycle plus the 3 s hold
    assert pause_gap[0] > np.median(gaps) + 2.0
    held = rsp[int(61.2 * SF) : int(62.8 * SF)]
    assert np.ptp(held) < 0.2 * np.ptp(rsp)


def test_scr_latency_from_neurokit(physio) -> None:
    eda = physio.signals["EDA"]
    phasic = nk.eda_phasic(eda, sampling_rate=int(SF), method="highpass")
    _, info = nk.eda_peaks(phasic["EDA_Phasic"].to_numpy(), sampling_rate=int(SF))
    onsets = np.asarray(info["SCR_Onsets"], float) / SF
    near = onsets[(onsets > 30.0) & (onsets < 34.0)]
    assert len(near) >= 1
    assert 1.0 <= near[0] - 30.0 <= 3.0  # SCR 1-3 s after the expression onset
    rise = eda[int(33.3 * SF)] - eda[int(31.8 * SF)]
    assert rise == pytest.approx(0.4, abs=0.08)
    assert 1.0 < eda.min() and eda.max() < 20  # microsiemens


def test_skin_temperature_and_emg(physio) -> None:
    skt = physio.signals["SKT A"]
    assert 30 < skt.min() and skt.max() < 36
    drop = skt[int(80 * SF)] - skt[int(71 * SF)]
    assert drop == pytest.approx(-0.15, abs=0.05)
    emg = physio.signals["EMG B"]
    burst = emg[int(50.05 * SF) : int(50.25 * SF)].std()
    quiet = emg[int(45 * SF) : int(49 * SF)].std()
    assert burst > 5 * quiet
    assert physio.signals["EMG A"][int(50.05 * SF) : int(50.25 * SF)].std() < 2 * quiet


def test_physio_bad_input() -> None:
    with pytest.raises(InputError, match="duration"):
        simulate_physio(0.0, 0.0, [], SUBJECT, np.random.default_rng(0))


@pytest.fixture(scope="module")
def eeg():
    onsets = np.arange(5.0, 55.0, 5.0)
    resp = []
    for o in onsets:
        resp.append(Response("theta_increase", "EEG", o - 0.1, o + 0.3, o + 1.0, 1.0,
                             "relative", band="theta"))
        resp.append(Response("alpha_decrease", "EEG", o + 0.1, o + 0.6, o + 1.6, -0.6,
                             "relative", band="alpha"))
    blinks = [(o + 2.5, 0.2) for o in onsets]
    data = simulate_eeg(int(60 * SF), SF, resp, blinks, np.random.default_rng(1), alpha_hz=10.5)
    return data, onsets, blinks


def _ch(name: str) -> int:
    return EEG_CHANNELS.index(name)


def test_eeg_alpha_peak_and_topography(eeg) -> None:
    data, _, _ = eeg
    assert data.shape == (68, int(60 * SF))
    f, p = welch(data[[_ch("O1"), _ch("O2"), _ch("FZ")]], fs=SF, nperseg=int(4 * SF))
    band = (f >= 4) & (f <= 30)
    peak = f[band][np.argmax(p[0, band])]
    assert 8 <= peak <= 13 and peak == pytest.approx(10.5, abs=1.0)
    alpha = (f >= 8) & (f <= 13)
    assert p[0, alpha].mean() > 3 * p[2, alpha].mean()  # posterior alpha
    rms = data[:64].std(1) * 1e6
    assert np.all((rms > 3) & (rms < 60))  # microvolts


def _band_env(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    from scipy.signal import butter, hilbert, sosfiltfilt

    sos = butter(4, [lo, hi], btype="band", fs=SF, output="sos")
    return np.abs(hilbert(sosfiltfilt(sos, x)))


def test_eeg_event_related_theta_and_alpha(eeg) -> None:
    data, onsets, _ = eeg
    a = _band_env(data[_ch("OZ")], 9.5, 11.5)
    th = _band_env(data[_ch("FZ")], 4.0, 7.0)

    def avg(env: np.ndarray, lo: float, hi: float) -> float:
        return float(np.mean([env[int((o + lo) * SF) : int((o + hi) * SF)].mean()
                              for o in onsets]))

    assert avg(a, 0.4, 0.9) < 0.75 * avg(a, -1.5, -0.5)  # alpha decrease after onset
    assert avg(th, 0.1, 0.5) > 1.4 * avg(th, -1.5, -0.5)  # theta increase after onset


def test_eeg_blinks_on_veo(eeg) -> None:
    data, _, blinks = eeg
    veo = data[_ch("VEO")] * 1e6
    for start, dur in blinks:
        seg = veo[int(start * SF) : int((start + dur) * SF)]
        assert seg.max() > 100
    quiet = veo[int(6.0 * SF) : int(7.0 * SF)]
    assert np.abs(quiet).max() < 60
    assert np.abs(data[_ch("FP1")] * 1e6).max() > np.abs(data[_ch("OZ")] * 1e6).max()
