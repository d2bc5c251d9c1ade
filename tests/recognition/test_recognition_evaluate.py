"""Subject-wise evaluation: folds never see the test subject, and a leak makes these fail."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mmme.recognition.evaluate as ev
import mmme.recognition.protocols as protocols
from mmme.errors import InputError
from mmme.recognition.evaluate import check_features, cross_validate_predict
from mmme.recognition.protocols import (
    LOSO,
    MEGC2019,
    LeaveOneDatasetOut,
    SubjectKFold,
    class_mapping,
    get_protocol,
)

SEEN: list[set[float]] = []  # the sample ids each fit call saw (inline runs only)


class SpyScaler(TransformerMixin, BaseEstimator):
    """Records which samples (id in column 0) it was fitted on; passes data through."""

    def fit(self, X, y=None):
        SEEN.append(set(np.asarray(X)[:, 0].tolist()))
        return self

    def transform(self, X):
        return np.asarray(X)[:, 1:]


class Memoriser(ClassifierMixin, BaseEstimator):
    """Predicts the label of a sample it has seen by its id (column 0), else the first class."""

    def fit(self, X, y):
        self.table_ = dict(zip(np.asarray(X)[:, 0].tolist(), y, strict=True))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.array([self.table_.get(i, self.classes_[0]) for i in np.asarray(X)[:, 0]])


def _data(n_subjects=8, per=12, classes=("a", "b", "c", "d"), seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n_subjects * per)
    groups = np.repeat([f"s{i:02d}" for i in range(n_subjects)], per)
    ids = np.arange(len(y), dtype=float)
    X = np.column_stack([ids, rng.normal(size=(len(y), 4))])
    return X, y, groups


def test_docstring_examples_hold():
    for mod in (ev, protocols):
        assert doctest.testmod(mod).failed == 0


@pytest.mark.parametrize(
    "protocol", [LOSO(), SubjectKFold(n_splits=4, seed=1), MEGC2019()], ids=lambda p: p.name
)
def test_no_fit_ever_sees_a_test_subject(protocol):
    X, y, groups = _data()
    SEEN.clear()
    est = make_pipeline(SpyScaler(), LogisticRegression(C=1.0))
    res = cross_validate_predict(
        est, X, y, groups, protocol, param_grid={"logisticregression__C": [0.1, 1.0]}
    )
    folds = list(protocol.split(X, y, groups))
    assert len(res.best_params) == len(folds)
    # every fit (inner search fits and the refit) saw only training subjects of its fold
    id_group = dict(zip(X[:, 0].tolist(), groups, strict=True))
    test_sets = [set(groups[test]) for _, test in folds]
    per_fold = len(SEEN) // len(folds)
    assert per_fold * len(folds) == len(SEEN)
    for k, test_groups in enumerate(test_sets):
        for seen in SEEN[k * per_fold : (k + 1) * per_fold]:
            assert not {id_group[i] for i in seen} & test_groups
    # and each test sample is predicted exactly once
    assert sorted(res.predictions["sample"]) == sorted(range(len(y)))


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored by KFold")
def test_a_memorising_model_scores_at_chance_and_a_leaky_split_is_refused():
    X, y, groups = _data(n_subjects=10, per=20)
    res = cross_validate_predict(Memoriser(), X, y, groups)
    # never having seen a test sample, it predicts "a" for all: recall 1 on a, 0 elsewhere
    assert res.scores(n_boot=50)["uar"] == pytest.approx(0.25)
    # a sample-wise K-fold puts each subject on both sides: refused, naming the fold
    with pytest.raises(InputError, match="fold 0 trains on its test subject"):
        cross_validate_predict(Memoriser(), X, y, groups, KFold(5, shuffle=True, random_state=0))


def test_leak_injected_into_the_harness_is_caught(monkeypatch):
    """Plant the classic leak — fit on everything — and check the two tests above would fail."""
    X, y, groups = _data(n_subjects=10, per=20)
    real_fit_fold = ev.fit_fold

    def leaky_fit_fold(estimator, X_train, y_train, g_train, *a):
        return real_fit_fold(estimator, X, y, groups, *a)  # all subjects, test ones included

    monkeypatch.setattr(ev, "fit_fold", leaky_fit_fold)
    res = cross_validate_predict(Memoriser(), X, y, groups)
    assert res.scores(n_boot=50)["uar"] == pytest.approx(1.0)  # the leak shows as perfection
    SEEN.clear()
    cross_validate_predict(make_pipeline(SpyScaler(), LogisticRegression()), X, y, groups)
    assert all(len(s) == len(y) for s in SEEN)  # the spy saw the test subjects


def test_stimulus_metadata_is_never_a_feature():
    X = pd.DataFrame({"ECG_hr": [1.0, 2.0], "category": [1, 2]})
    with pytest.raises(InputError, match=r"\['category'\] describe the stimulus"):
        check_features(X)
    for name in ("marker", "Trial", "clip_id", "emotion3", "filename"):
        with pytest.raises(InputError):
            check_features(pd.DataFrame({name: [1]}))
    check_features(pd.DataFrame({"EMG A_burst": [1.0], "FP1_alpha": [2.0], "markerless": [0]}))


def test_separable_data_is_learned_and_results_are_reproducible():
    rng = np.random.default_rng(1)
    y = np.tile(["neg", "pos", "sur"], 40)
    groups = np.repeat([f"s{i}" for i in range(10)], 12)
    offset = rng.normal(size=(10, 3)).repeat(12, axis=0)  # per-subject shift
    X = offset + 3.0 * pd.get_dummies(y).to_numpy(float) + 0.3 * rng.normal(size=(120, 3))
    est = make_pipeline(StandardScaler(), KNeighborsClassifier(3))
    a = cross_validate_predict(est, X, y, groups)
    b = cross_validate_predict(est, X, y, groups)
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    s = a.scores(n_boot=200)
    assert s["uf1"] > 0.9 and s["n_subjects"] == 10
    assert s["uf1_ci"][0] <= s["uf1"] <= s["uf1_ci"][1]


def test_protocols_split_by_subject_and_dataset():
    groups = np.array(["casme-ii/1", "casme-ii/2", "samm/6", "samm/7", "smic-e/s1", "smic-e/s2"])
    lodo = [sorted(set(groups[t])) for _, t in LeaveOneDatasetOut().split(groups, groups=groups)]
    assert lodo == [["casme-ii/1", "casme-ii/2"], ["samm/6", "samm/7"], ["smic-e/s1", "smic-e/s2"]]
    assert LOSO().get_n_splits(groups=groups) == 6
    assert get_protocol("kfold", n_splits=3).get_n_splits(groups=groups) == 3
    with pytest.raises(InputError, match="dataset/subject"):
        list(LeaveOneDatasetOut().split(groups, groups=["a", "b"]))
    with pytest.raises(InputError, match="groups are required"):
        list(LOSO().split(groups))
    with pytest.raises(InputError, match="unknown protocol 'random'"):
        get_protocol("random")


def test_class_sets(tmp_path):
    assert class_mapping("3")["tense"] == "negative"
    assert class_mapping("7")["tense"] == "contempt"
    assert set(class_mapping("5").values()) == {
        "happiness",
        "disgust",
        "repression",
        "surprise",
        "others",
    }
    f = tmp_path / "m.csv"
    f.write_text("emotion,class\nhappiness,pos\nsadness,neg\n")
    assert class_mapping(f) == {"happiness": "pos", "sadness": "neg"}
    j = tmp_path / "m.json"
    j.write_text(json.dumps({"fear": "neg"}))
    assert class_mapping(j) == {"fear": "neg"}
    f.write_text("emotion,class\nhappiness,\n")
    with pytest.raises(InputError, match=r"m.csv, row 2: empty cell"):
        class_mapping(f)
    with pytest.raises(InputError, match="neither one of"):
        class_mapping("9")
