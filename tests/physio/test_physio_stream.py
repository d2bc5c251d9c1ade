"""Chunked session features equal whole-recording processing and never double-count."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.physio import iter_array_chunks, process_signal, stream_features

FS = 250.0
DUR = 150


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    ecg = nk.ecg_simulate(duration=DUR, sampling_rate=int(FS), heart_rate=66, random_state=4)
    t = np.arange(ecg.size) / FS
    rng = np.random.default_rng(0)
    # 4 EEG channels: occipital alpha that halves after 75 s, + VEO with blinks
    alpha = np.sin(2 * np.pi * 10 * t) * np.where(t < 75, 20e-6, 10e-6)
    eeg = rng.standard_normal((4, t.size)) * 3e-6
    eeg[2:] += alpha
    veo = rng.standard_normal(t.size) * 5e-6
    data = np.column_stack([ecg, *eeg, veo]).astype(np.float32)
    path = tmp_path_factory.mktemp("stream") / "session.npy"
    np.save(path, data)
    names = ["ECG", "FZ", "CZ", "O1", "O2", "VEO"]
    kinds = {"ECG": "ecg", "FZ": "eeg", "CZ": "eeg", "O1": "eeg", "O2": "eeg", "VEO": "eog"}
    return np.load(path, mmap_mode="r"), names, kinds, ecg


def test_chunks_cover_like_the_store(session):
    data = session[0]
    chunks = list(iter_array_chunks(data, FS, chunk_s=40, overlap_s=10, picks=[0]))
    starts = [c[1][0] for c in chunks]
    assert starts == pytest.approx([0.0, 30.0, 70.0, 110.0])
    assert chunks[-1][1][-1] == pytest.approx(DUR - 1 / FS)
    assert all(c[0].shape[0] == 1 for c in chunks)


def test_stream_equals_whole_recording(session):
    data, names, kinds, ecg = session
    res = stream_features(iter_array_chunks(data, FS, chunk_s=40, overlap_s=10), FS, names,
                          kinds, win_s=10.0)
    assert res.n_chunks == 4
    assert len(res.windows) == DUR // 10
    assert res.windows["start_s"].tolist() == [10.0 * k for k in range(DUR // 10)]
    whole = process_signal(ecg, FS, "ecg").event_times("peaks")
    streamed = np.sort(res.events["ECG"]["peaks"])
    assert len(streamed) == len(whole)  # every beat once, none twice across overlaps
    assert np.abs(streamed - whole).max() < 2 / FS
    assert res.windows["ECG_hr_mean_bpm"].between(60, 72).all()
    assert res.bad_fraction["ECG"] == 0.0
    # EEG: alpha power halves in amplitude after 75 s -> a quarter in power
    a = res.windows["O1_alpha_power"].to_numpy()
    before, after = a[1:7].mean(), a[8:14].mean()
    assert after / before == pytest.approx(0.25, rel=0.25)
    assert {"FZ_theta_de", "O2_gamma_power"} <= set(res.windows.columns)


def test_too_little_overlap_is_an_error(session):
    data, names, kinds, _ = session
    with pytest.raises(InputError, match="overlap too little"):
        stream_features(iter_array_chunks(data, FS, chunk_s=40, overlap_s=2, picks=[0]), FS,
                        ["ECG"], {"ECG": "ecg"}, margin_s=5.0)
