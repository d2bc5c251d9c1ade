"""EEG montage, preprocessing, band features, z-scoring and planted alpha/theta changes."""

from __future__ import annotations

import numpy as np
import pytest

from mmme.data.streams import SignalStream
from mmme.eeg import (
    NEUROSCAN_62,
    NEUROSCAN_64,
    EEGBandFeatures,
    SubjectZScore,
    band_power,
    differential_entropy,
    frontal_asymmetry,
    make_raw,
    preprocess_raw,
    standard_name,
)
from mmme.errors import InputError
from mmme.synth.eeg import EEG_CHANNELS, simulate_eeg
from mmme.synth.events import Response

FS = 250.0


def test_neuroscan_names_map_to_10_05():
    assert len(NEUROSCAN_64) == 64 and len(NEUROSCAN_62) == 62
    assert standard_name("FP1") == "Fp1" and standard_name("FCZ") == "FCz"
    assert standard_name("M1") == "M1" and standard_name("CB1") is None
    raw = make_raw(np.zeros((68, 100)), FS, list(EEG_CHANNELS))
    assert raw.get_channel_types()[-4:] == ["eog", "eog", "ecg", "emg"]
    pos = raw.get_montage().get_positions()["ch_pos"]
    assert set(NEUROSCAN_64) <= set(pos)  # CB1/CB2 approximated at I1/I2
    assert pos["CB1"][2] < pos["O1"][2]  # below O1
    assert pos["FP1"][0] < 0 < pos["FP2"][0]  # left / right
    raw = make_raw(np.zeros((3, 100)), FS, ["O1", "CB1", "CB2"], cb="none")
    pos = raw.get_montage().get_positions()["ch_pos"]
    assert np.isfinite(pos["O1"]).all() and np.isnan(pos["CB1"]).all()


def test_band_power_and_de_of_known_signals():
    rng = np.random.default_rng(0)
    t = np.arange(int(20 * FS)) / FS
    x = np.vstack([np.sin(2 * np.pi * 10 * t), rng.standard_normal(t.size)])
    rel = band_power(x, FS, relative=True)
    assert rel.sum(-1) == pytest.approx([1.0, 1.0], abs=1e-12)
    # 10 Hz on a Welch bin (20 cycles per 2-s segment): all of it in alpha
    assert rel[0, 2] == pytest.approx(1.0, abs=1e-12)
    absp = band_power(x, FS)
    assert absp[0, 2] == pytest.approx(0.5, rel=1e-9)  # sine power = A^2 / 2
    # white noise of variance 1: band power = width / Nyquist, to sampling error (~4 %)
    assert absp[1, 3] == pytest.approx(17 / (FS / 2), rel=0.15)
    de = differential_entropy(absp)
    assert de[0, 2] == pytest.approx(0.5 * np.log(2 * np.pi * np.e * 0.5), abs=1e-9)
    assert np.isnan(differential_entropy(np.zeros(1))[0])


def test_310_features_and_names():
    X = np.random.default_rng(1).standard_normal((3, 62, 500))
    est = EEGBandFeatures(sfreq=FS, ch_names=list(NEUROSCAN_62)).fit(X)
    out = est.transform(X)
    assert out.shape == (3, 310)
    names = est.get_feature_names_out()
    assert names[0] == "FP1_delta_de" and names[-1] == "CB2_gamma_de"
    with pytest.raises(InputError):
        est.transform(X[:, :10])


def test_subject_zscore():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(5, 2, (20, 3)), rng.normal(-1, 0.5, (20, 3))])
    g = np.repeat(["S01", "S02"], 20)
    z = SubjectZScore().fit_transform(X, groups=g)
    for s in ("S01", "S02"):
        assert z[g == s].mean(0) == pytest.approx(np.zeros(3), abs=1e-9)
        assert z[g == s].std(0) == pytest.approx(np.ones(3))
    new = rng.normal(10, 3, (15, 3))
    zn = SubjectZScore().fit(X, groups=g).transform(new, groups=["S03"] * 15)
    assert zn.mean(0) == pytest.approx(np.zeros(3), abs=1e-9)
    with pytest.raises(InputError, match="S03"):
        SubjectZScore(unseen="error").fit(X, groups=g).transform(new, groups=["S03"] * 15)


def test_frontal_asymmetry_sign():
    p = np.ones((2, 4, 5))
    p[0, 1, 2] = np.e  # F4 alpha larger than F3 in epoch 0
    df = frontal_asymmetry(p, ["F3", "F4", "O1", "O2"])
    assert list(df.columns) == ["asym_F4-F3"]
    assert df["asym_F4-F3"].tolist() == pytest.approx([1.0, 0.0])


@pytest.fixture(scope="module")
def planted():
    """30 s of synthetic EEG; alpha decrease + theta increase after onsets at 10 and 20 s."""
    onsets = [10.0, 20.0]
    resp = []
    for on in onsets:
        resp.append(Response("theta_increase", "EEG", on - 0.1, on + 0.3, on + 1.0, 1.5,
                             "relative", 0, "theta"))
        resp.append(Response("alpha_decrease", "EEG", on + 0.1, on + 0.6, on + 1.6, -0.8,
                             "relative", 0, "alpha"))
    blinks = [(4.0, 0.3), (15.0, 0.3), (24.0, 0.3)]
    x = simulate_eeg(int(30 * FS), FS, resp, blinks, np.random.default_rng(5))
    return make_raw(x, FS, list(EEG_CHANNELS)), onsets, blinks


def test_eog_regression_removes_blinks(planted):
    raw, _, blinks = planted
    clean = preprocess_raw(raw, reference="average", eog="regression")
    kept = preprocess_raw(raw, reference="average", eog=None)

    def blink_corr(r):
        return abs(np.corrcoef(r.get_data(picks="FP1")[0], r.get_data(picks="VEO")[0])[0, 1])

    assert blink_corr(kept) > 0.5
    assert blink_corr(clean) < 0.5 * blink_corr(kept)


def test_planted_alpha_decrease_and_theta_increase(planted):
    raw, onsets, _ = planted
    clean = preprocess_raw(raw)
    ep = _stream(clean).epochs(onsets, -1.5, 2.0, on_edge="drop")
    assert len(ep) == 2
    x = ep.get_data(picks=["OZ", "O1", "O2", "FZ", "FCZ"])
    sf = ep.info["sfreq"]
    i0 = int(round(1.5 * sf))
    base = band_power(x[..., : i0 - int(0.1 * sf)], sf, seg_s=1.0)
    resp = band_power(x[..., i0 + int(0.3 * sf) : i0 + int(1.5 * sf)], sf, seg_s=1.0)
    alpha_change = resp[:, :3, 2].mean() / base[:, :3, 2].mean()
    theta_change = resp[:, 3:, 1].mean() / base[:, 3:, 1].mean()
    assert alpha_change < 0.7  # posterior alpha drops
    assert theta_change > 1.3  # frontal-midline theta rises


def _stream(raw):
    return SignalStream.from_array(raw.get_data(), raw.info["sfreq"], raw.ch_names,
                                   first_time=raw.first_time, kind="eeg")


def test_epochs_outside_recording_nan_or_dropped(planted):
    stream = _stream(planted[0])
    assert np.isnan(stream.epochs([100.0], -1.0, 1.0).get_data()).all()
    assert len(stream.epochs([100.0, 10.0], -1.0, 1.0, on_edge="drop")) == 1
    with pytest.raises(InputError, match="no epoch to return .1 event.s., 1 running past"):
        stream.epochs([100.0], -1.0, 1.0, on_edge="drop")
