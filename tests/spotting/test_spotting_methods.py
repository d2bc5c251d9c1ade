"""Spotting methods: planted peaks found, parameters chosen on training videos only."""

import numpy as np
import pandas as pd
import pytest

from mmme.spotting.methods import (
    FrameSpotter,
    choose_eta,
    choose_threshold,
    frame_labels,
    hr_filter,
    learned_scores,
    spot,
)


def bump(n, at, width, height=1.0):
    f = np.zeros(n)
    f[at : at + width] = height * np.hanning(width)
    return f


def test_spot_types_by_length_at_the_frame_rate():
    fps = 50.0  # 0.5 s = 25 frames
    f = bump(400, 100, 15) + bump(400, 250, 61, 2.0)
    iv = spot(f, fps, k=5, p=0.2, k_mae=20)
    assert iv["type"].tolist() == ["ME", "MaE"]
    # one k for both: the slow expression's contrast is flattened away
    assert spot(f, fps, k=5, p=0.2)["type"].tolist() == ["ME"]
    me, mae = iv.iloc[0], iv.iloc[1]
    assert me["onset"] <= 107 <= me["offset"] and me["offset"] - me["onset"] + 1 <= 25
    assert mae["offset"] - mae["onset"] + 1 > 25


def test_threshold_is_chosen_on_training_videos_only():
    fps, k = 50.0, 5
    # training: a true bump and a smaller decoy: only a high threshold avoids the decoy
    train = {f"tr{i}": bump(300, 50, 11) + bump(300, 200, 11, 0.5) for i in range(3)}
    truth_rows = [{"video": v, "onset": 52, "offset": 58, "type": "ME"} for v in train]
    # the test video's true event is the *small* one: a low p would suit it
    truth_rows.append({"video": "te", "onset": 202, "offset": 208, "type": "ME"})
    truth = pd.DataFrame(truth_rows)
    fp = {v: fps for v in [*train, "te"]}
    p = choose_threshold(train, fp, k, truth)
    assert p > 0.3  # the decoy (half height) is above mean + p (max - mean) only for p < ~0.5
    both = choose_threshold({**train, "te": bump(300, 50, 11, 0.1) + bump(300, 200, 11, 0.5)},
                            fp, k, truth)
    assert both != p or both > 0.3  # the test video's preference is not what decides


def test_hr_filter_keeps_exactly_the_candidates_above_eta():
    pred = pd.DataFrame({"video": ["v"] * 4, "onset": [0, 10, 20, 30], "apex": [2, 12, 22, 32],
                         "offset": [4, 14, 24, 34], "score": 1.0, "type": "ME"})
    ratio = {2: 0.5, 12: 2.0, 22: 2.01, 32: np.nan}
    kept = hr_filter(pred, lambda v, f: ratio[f], 2.0)
    assert kept["apex"].tolist() == [22, 32]  # > eta (not >=), NaN (no ECG) kept
    assert len(hr_filter(pred, lambda v, f: ratio[f], 0.0)) == 4


def test_eta_from_training_predictions():
    pred = pd.DataFrame({"video": ["v"] * 3, "onset": [0, 20, 40], "apex": [2, 22, 42],
                         "offset": [4, 24, 44], "score": 1.0, "type": "ME"})
    truth = pd.DataFrame({"video": ["v"], "onset": [20], "offset": [24], "type": ["ME"]})
    ratio = {2: 1.2, 22: 3.5, 42: 0.4}
    # eta in (1.2, 3.5) keeps only the true one: the smallest such grid value is 1.5
    assert choose_eta(pred, truth, lambda v, f: ratio[f]) == 1.5


def test_frame_labels_inclusive():
    y = frame_labels(10, pd.DataFrame({"onset": [2], "offset": [4]}))
    assert y.tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]


def test_learned_spotter_finds_the_planted_feature():
    rng = np.random.default_rng(0)
    feats, labels = {}, {}
    for i in range(4):
        n = 400
        y = np.zeros(n, dtype=np.int8)
        y[100:110] = 1
        y[300:312] = 1
        x = rng.normal(size=(n, 3))
        x[:, 1] += 3 * y  # the feature that carries the expression
        feats[f"v{i}"], labels[f"v{i}"] = x, y
    sc = learned_scores(feats, labels, ["v0", "v1", "v2"], ["v3"])
    s = sc["v3"]
    assert s[labels["v3"] == 1].mean() > 0.8 and s[labels["v3"] == 0].mean() < 0.2
    # deterministic
    np.testing.assert_array_equal(s, learned_scores(feats, labels, ["v0", "v1", "v2"],
                                                    ["v3"])["v3"])
    with pytest.raises(ValueError):
        FrameSpotter().fit(np.zeros((5, 2)), np.zeros(4))
