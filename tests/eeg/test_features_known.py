"""Known answers for EEG band power, differential entropy, asymmetry and subject z-scores.

Welch segments of 2 s at 250 Hz put bins every 0.5 Hz; a sinusoid on a bin with a whole number
of cycles per segment has power ``A**2 / 2`` exactly, spread by MNE's (periodic) Hamming window
over its bin and the two next to it in the ratio ``0.54**2 : 0.23**2 : 0.23**2``. So a band holding
all three bins gets ``A**2 / 2`` to rounding, and a sinusoid on a band edge puts
``0.23**2 / (0.54**2 + 2 * 0.23**2) = 13.31 %`` of its power in the band below the edge.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from mmme.eeg.features import (
    BANDS,
    EEGBandFeatures,
    SubjectZScore,
    band_power,
    differential_entropy,
    frontal_asymmetry,
)
from mmme.errors import InputError

FS = 250.0
T = np.arange(int(20 * FS)) / FS
SIDE = 0.23**2 / (0.54**2 + 2 * 0.23**2)  # share of one neighbouring bin


def _sines(parts):
    return sum(a * np.sin(2 * np.pi * f * T + 0.3 * f) for a, f in parts)


def test_band_powers_of_known_sinusoids():
    # one sinusoid per band, amplitudes 1..5: band powers A^2/2 = 0.5, 2, 4.5, 8, 12.5
    x = _sines([(1, 2.0), (2, 6.0), (3, 10.0), (4, 20.0), (5, 40.0)])
    p = band_power(x, FS)
    assert list(BANDS) == ["delta", "theta", "alpha", "beta", "gamma"]
    assert p.shape == (5,)
    assert p == pytest.approx([0.5, 2.0, 4.5, 8.0, 12.5], rel=1e-9)
    # the bands partition the spectrum: their sum is the signal's whole power
    assert p.sum() == pytest.approx(27.5, rel=1e-9)
    assert p.sum() == pytest.approx(np.var(x), rel=1e-9)
    rel = band_power(x, FS, relative=True)
    assert rel == pytest.approx(np.array([0.5, 2.0, 4.5, 8.0, 12.5]) / 27.5, rel=1e-9)


@pytest.mark.parametrize(
    ("freq", "below", "above"),
    [(4.0, 0, 1), (8.0, 1, 2), (13.0, 2, 3), (30.0, 3, 4)],
)
def test_band_edges_are_half_open(freq, below, above):
    p = band_power(np.sin(2 * np.pi * freq * T), FS)
    assert p[below] == pytest.approx(0.5 * SIDE, rel=1e-9)  # the bin under the edge
    assert p[above] == pytest.approx(0.5 * (1 - SIDE), rel=1e-9)  # the edge bin and the next
    assert p.sum() == pytest.approx(0.5, rel=1e-9)


def test_outer_edges_1_and_47_hz():
    p = band_power(np.sin(2 * np.pi * 1.0 * T), FS)
    assert p[0] == pytest.approx(0.5 * (1 - SIDE), rel=1e-9)  # the 0.5 Hz bin is outside
    p = band_power(np.sin(2 * np.pi * 47.0 * T), FS)
    assert p[4] == pytest.approx(0.5 * SIDE, rel=1e-9)  # only 46.5 Hz counts
    assert p[:4].sum() < 1e-20


def test_band_powers_sum_to_welch_power_over_the_covered_range():
    # white noise: the five bands together are the Welch power over [1, 47) Hz, as scipy
    # computes it independently
    x = np.random.default_rng(3).standard_normal((2, T.size)) * [[1.0], [3.0]]
    p = band_power(x, FS)
    f, pxx = sps.welch(x, FS, window="hamming", nperseg=500, noverlap=250, detrend="constant")
    keep = (f >= 1.0) & (f < 47.0)
    total = pxx[:, keep].sum(-1) * (f[1] - f[0])
    assert p.sum(-1) == pytest.approx(total, rel=1e-9)
    # and each band is its width over Nyquist of the variance, to sampling error (~4 %)
    widths = np.array([hi - lo for lo, hi in BANDS.values()])
    assert p[1] == pytest.approx(9.0 * widths / (FS / 2), rel=0.2)


def test_short_window_uses_its_own_length():
    # 1 s window: 250-sample segments, 1 Hz bins; 10 Hz still has power 0.5 in alpha
    p = band_power(np.sin(2 * np.pi * 10.0 * T[:250]), FS)
    assert p == pytest.approx([0, 0, 0.5, 0, 0], abs=1e-12)
    with pytest.raises(InputError, match="too short"):
        band_power(np.zeros(7), FS)
    with pytest.raises(InputError, match="Nyquist"):
        band_power(np.zeros(100), 80.0)


def test_differential_entropy_known_values():
    two_pi_e = 2 * np.pi * np.e
    de = differential_entropy(np.array([1 / two_pi_e, 1.0, np.e**2 / two_pi_e, 0.0, -1.0]))
    assert de[:3] == pytest.approx([0.0, 0.5 * np.log(two_pi_e), 1.0], abs=1e-12)
    assert np.isnan(de[3]) and np.isnan(de[4])
    # Gaussian noise of variance 4 has DE 0.5 ln(2 pi e 4) = 2.11208...
    assert float(differential_entropy(4.0)) == pytest.approx(2.1120857137646180, abs=1e-12)


def test_transformer_feature_order_and_values():
    x = np.stack([
        np.stack([_sines([(1, 10.0)]), _sines([(2, 20.0)])]),
        np.stack([_sines([(3, 6.0)]), _sines([(1, 2.0), (1, 40.0)])]),
    ])  # (2 epochs, 2 channels, n)
    est = EEGBandFeatures(sfreq=FS, ch_names=["C3", "C4"], features=("power", "de", "relpower"))
    out = est.fit_transform(x)
    names = list(est.get_feature_names_out())
    assert out.shape == (2, 30) and len(names) == 30
    assert names[:3] == ["C3_delta_power", "C3_delta_de", "C3_delta_relpower"]
    col = {n: i for i, n in enumerate(names)}
    assert out[0, col["C3_alpha_power"]] == pytest.approx(0.5, rel=1e-9)
    assert out[0, col["C3_alpha_relpower"]] == pytest.approx(1.0, rel=1e-9)
    assert out[0, col["C4_beta_power"]] == pytest.approx(2.0, rel=1e-9)
    assert out[0, col["C4_beta_de"]] == pytest.approx(0.5 * np.log(2 * np.pi * np.e * 2.0))
    assert out[1, col["C3_theta_power"]] == pytest.approx(4.5, rel=1e-9)
    assert out[1, col["C4_delta_relpower"]] == pytest.approx(0.5, rel=1e-9)
    assert out[1, col["C4_gamma_relpower"]] == pytest.approx(0.5, rel=1e-9)


def test_frontal_asymmetry_known_value():
    p = np.zeros((1, 3, 5))
    p[0, 0, 2], p[0, 1, 2], p[0, 2, 2] = 0.5, 4.5, 1.0  # F3, F4, FP1 alpha
    fa = frontal_asymmetry(p, ["F3", "F4", "FP1"])
    assert list(fa.columns) == ["asym_F4-F3"]  # FP2 absent
    assert fa["asym_F4-F3"].iloc[0] == pytest.approx(np.log(9.0), abs=1e-12)  # right - left


def test_subject_zscore_known_values():
    X = np.array([[1.0], [3.0], [10.0], [20.0], [30.0]])
    g = ["A", "A", "B", "B", "B"]
    z = SubjectZScore().fit_transform(X, groups=g)
    s = np.sqrt(200 / 3)  # population sd of 10, 20, 30
    assert z[:, 0] == pytest.approx([-1, 1, -10 / s, 0, 10 / s], abs=1e-12)
    est = SubjectZScore(unseen="global").fit(X, groups=g)
    # pooled mean 12.8, pooled sd sqrt(mean((x - 12.8)^2)) = sqrt(118.16)
    assert est.transform(np.array([[12.8 + np.sqrt(118.16)]]), groups=["C"])[0, 0] == (
        pytest.approx(1.0, abs=1e-9)
    )
    selfz = SubjectZScore().fit(X, groups=g).transform(np.array([[5.0], [7.0]]), groups=["C"] * 2)
    assert selfz[:, 0] == pytest.approx([-1.0, 1.0], abs=1e-12)
