import numpy as np

from mmme.analysis import holm, one_sample


def test_holm_known_values():
    assert holm([0.01, 0.04, 0.03]).round(2).tolist() == [0.03, 0.06, 0.06]
    assert np.isnan(holm([np.nan, 0.5])[0])


def test_one_sample_false_positive_rate_near_alpha():
    rng = np.random.default_rng(0)
    p = np.array([one_sample(rng.normal(size=8))["p"] for _ in range(2000)])
    assert 0.035 < np.mean(p < 0.05) < 0.065


def test_one_sample_detects_shift():
    rng = np.random.default_rng(1)
    r = one_sample(rng.normal(1.0, 1.0, size=20))
    assert r["p"] < 0.01 and r["dz"] > 0.5
