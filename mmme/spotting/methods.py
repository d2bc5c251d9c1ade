"""Spotting methods: from per-frame curves and features to ME and MaE intervals.

Every method has free parameters (the threshold fraction ``p``, the HR-slope factor ``eta``)
that are chosen on the *training* subjects' videos only (:func:`choose_threshold`,
:func:`choose_eta`), by the overall F1 of the MEGC protocol; the learned spotter's threshold is
chosen on out-of-fold scores of an inner split of the training subjects.

Examples
--------
>>> import numpy as np
>>> f = np.zeros(250); f[50:61] = np.hanning(11); f[120:191] = 2 * np.hanning(71)
>>> spot(f, fps=50, k=5, p=0.2, k_mae=20)[["onset", "offset", "type"]].values.tolist()
[[53, 57, 'ME'], [138, 172, 'MaE']]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold

from mmme.errors import InputError
from mmme.spotting.evaluate import me_max_frames_at, score_spotting
from mmme.spotting.peaks import find_intervals

#: Threshold fractions searched on the training subjects.
P_GRID: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: HR-slope factors searched on the training subjects (0 keeps every candidate).
ETA_GRID: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
PRED_COLUMNS = ("video", "onset", "apex", "offset", "score", "type")


def spot(curve: np.ndarray, fps: float, k: int, p: float, *, k_mae: int | None = None,
         use_contrast: bool = True, max_len: int | None = None) -> pd.DataFrame:
    """Intervals of one video's curve with their type: ME when at most 0.5 s long, else MaE.

    With ``k_mae`` the curve is searched twice, as the MEGC spotters do: with ``k`` for MEs
    (keeping intervals of at most 0.5 s) and with ``k_mae`` for macro-expressions (keeping the
    longer ones), since a contrast over ``k`` frames flattens a slow expression."""
    max_len = max_len if max_len is not None else int(round(4 * fps))
    me_max = me_max_frames_at(fps)
    iv = find_intervals(curve, k, p, use_contrast=use_contrast, max_len=max_len)
    length = iv["offset"] - iv["onset"] + 1
    iv["type"] = np.where(length <= me_max, "ME", "MaE")
    if k_mae is None or k_mae == k:
        return iv
    slow = find_intervals(curve, k_mae, p, use_contrast=use_contrast, max_len=max_len)
    slow = slow[(slow["offset"] - slow["onset"] + 1) > me_max].assign(type="MaE")
    iv = iv[iv["type"] == "ME"]
    out = pd.concat([iv, slow], ignore_index=True) if len(slow) else iv
    return out.sort_values("onset", kind="stable").reset_index(drop=True)


def predict_videos(curves: Mapping[str, np.ndarray], fps: Mapping[str, float], k: int, p: float,
                   *, k_mae: int | None = None, use_contrast: bool = True) -> pd.DataFrame:
    """:func:`spot` on every video; one table with a ``video`` column."""
    parts = []
    for v, c in curves.items():
        iv = spot(c, fps[v], k, p, k_mae=k_mae, use_contrast=use_contrast)
        iv.insert(0, "video", v)
        parts.append(iv)
    if not parts:
        return pd.DataFrame(columns=list(PRED_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out[list(PRED_COLUMNS)]


def overall_f1(truth: pd.DataFrame, pred: pd.DataFrame) -> float:
    return float(score_spotting(truth, pred[["video", "onset", "offset", "type"]])
                 .counts["overall"]["f1"])


def choose_threshold(curves: Mapping[str, np.ndarray], fps: Mapping[str, float], k: int,
                     truth: pd.DataFrame, *, k_mae: int | None = None,
                     use_contrast: bool = True, grid: Sequence[float] = P_GRID) -> float:
    """The ``p`` of :data:`P_GRID` with the best overall F1 on these (training) videos; ties go
    to the larger ``p`` (fewer predictions)."""
    if not curves:
        raise InputError("no training videos to choose a threshold on")
    t = truth[truth["video"].isin(list(curves))]
    scores = [overall_f1(t, predict_videos(curves, fps, k, p, k_mae=k_mae,
                                           use_contrast=use_contrast)) for p in grid]
    best = max(range(len(grid)), key=lambda i: (scores[i], grid[i]))
    return float(grid[best])


def hr_filter(pred: pd.DataFrame, ratio_at: Callable[[str, int], float], eta: float
              ) -> pd.DataFrame:
    """Keep candidates whose |HR slope| at the apex exceeds ``eta`` x the trial's mean |slope|.

    ``ratio_at(video, frame)`` gives that ratio (NaN where the ECG is masked or absent: such a
    candidate is kept, so missing ECG never removes a face candidate)."""
    if pred.empty or eta <= 0:
        return pred.copy()
    r = np.array([ratio_at(v, int(a)) for v, a in zip(pred["video"], pred["apex"], strict=True)])
    keep = ~np.isfinite(r) | (r > eta)
    return pred[keep].reset_index(drop=True)


def choose_eta(pred: pd.DataFrame, truth: pd.DataFrame, ratio_at: Callable[[str, int], float],
               grid: Sequence[float] = ETA_GRID) -> float:
    """The factor of :data:`ETA_GRID` with the best overall F1 on these (training) predictions;
    ties go to the smaller factor (the filter removes as little as it can)."""
    t = truth[truth["video"].isin(set(pred["video"]))] if len(pred) else truth
    scores = [overall_f1(t, hr_filter(pred, ratio_at, e)) for e in grid]
    best = max(range(len(grid)), key=lambda i: (scores[i], -grid[i]))
    return float(grid[best])


def frame_labels(n: int, intervals: pd.DataFrame) -> np.ndarray:
    """Pseudo-labels of a video's frames: 1 inside any coded interval (inclusive), else 0."""
    y = np.zeros(n, dtype=np.int8)
    for on, off in zip(intervals["onset"], intervals["offset"], strict=True):
        y[max(0, int(on)) : min(n, int(off) + 1)] = 1
    return y


class FrameSpotter(ClassifierMixin, BaseEstimator):
    """Frame-level expression classifier (gradient boosting) on per-frame features.

    Negatives are subsampled to ``neg_ratio`` per positive (seeded) so long videos train
    quickly; NaN features are allowed (gradient boosting routes them). ``predict_proba[:, 1]``
    is the frame score that :func:`spot` thresholds.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes : see ``HistGradientBoostingClassifier``.
    neg_ratio : float
        Negatives kept per positive frame.
    random_state : int
    """

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1,
                 max_leaf_nodes: int = 15, neg_ratio: float = 5.0, random_state: int = 0):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.neg_ratio = neg_ratio
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> FrameSpotter:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(int)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X must be (n_frames, n_features) matching y, got {X.shape}")
        rng = np.random.default_rng(self.random_state)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        n_neg = min(len(neg), max(1, int(self.neg_ratio * max(1, len(pos)))))
        idx = np.sort(np.r_[pos, rng.choice(neg, size=n_neg, replace=False)]) if len(neg) \
            else pos
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, random_state=self.random_state)
        self.model_.fit(X[idx], y[idx])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if len(self.model_.classes_) == 1:  # trained on one class only
            p = np.full((len(X), 2), 0.0)
            p[:, int(self.model_.classes_[0])] = 1.0
            return p
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def learned_scores(features: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray],
                   train: Sequence[str], test: Sequence[str], *, random_state: int = 0,
                   ) -> dict[str, np.ndarray]:
    """Fit a :class:`FrameSpotter` on the ``train`` videos, score the ``test`` videos."""
    X = np.vstack([features[v] for v in train])
    y = np.concatenate([labels[v] for v in train])
    model = FrameSpotter(random_state=random_state).fit(X, y)
    return {v: model.predict_proba(features[v])[:, 1] for v in test}


def learned_threshold(features: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray],
                      train: Sequence[str], subject_of: Mapping[str, str],
                      fps: Mapping[str, float], k: int, truth: pd.DataFrame, *,
                      k_mae: int | None = None, n_splits: int = 3,
                      random_state: int = 0) -> float:
    """The learned spotter's ``p``, from out-of-fold scores of the training subjects (inner
    ``GroupKFold`` by subject; the test subject is not among ``train``)."""
    groups = np.array([subject_of[v] for v in train])
    n = min(n_splits, len(set(groups)))
    if n < 2:
        raise InputError("the learned spotter needs at least 3 subjects (2 to train on, one to "
                         "test)")
    oof: dict[str, np.ndarray] = {}
    tr = np.array(train)
    for a, b in GroupKFold(n_splits=n).split(tr, groups=groups):
        oof.update(learned_scores(features, labels, list(tr[a]), list(tr[b]),
                                  random_state=random_state))
    return choose_threshold(oof, fps, k, truth, k_mae=k_mae, use_contrast=False)
