"""The scikit-learn contract of every mmme estimator, and SubjectZScore under LOSO.

Tabular estimators run scikit-learn's whole ``parametrize_with_checks`` battery. The 3-D and
ragged ones (EEG epochs, face clips and flow sequences) declare so in their tags; scikit-learn
then runs none of its checks (they all feed 2-D tables: "Can't test estimator ... which requires
input of type ..."), so the same properties are checked here with valid input.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from mmme.eeg.features import EEGBandFeatures, SubjectZScore
from mmme.errors import InputError
from mmme.face.features import HOOF, LBPTOP, MDMO

ALL = [SubjectZScore(), EEGBandFeatures(), LBPTOP(), HOOF(), MDMO()]
#: No check of the battery is expected to fail. scikit-learn itself skips check_array_api_input
#: unless SCIPY_ARRAY_API is set (it says so in the skip reason), and runs only its API checks
#: on the estimators whose tags say "no 2-D input" (see test_non_tabular_tags_...).
EXPECTED_FAILED: dict[str, str] = {}


@pytest.mark.filterwarnings("ignore:SubjectZScore fitted without groups")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@parametrize_with_checks(ALL, expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_checks(estimator, check):
    check(estimator)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _eeg(n=6, seed=0):
    return _rng(seed).normal(size=(n, 3, 400))


def _clips(n=5, seed=0):
    r = _rng(seed)
    return [r.integers(0, 256, size=(int(r.integers(4, 8)), 24, 24)).astype(np.uint8)
            for _ in range(n)]


def _flows(n=5, seed=0):
    r = _rng(seed)
    return [r.normal(size=(int(r.integers(1, 4)), 20, 20, 2)).astype(np.float32)
            for _ in range(n)]


# estimator, valid X, frame shape it fixes, X of another frame shape
NON_TABULAR = [
    (EEGBandFeatures(sfreq=200.0, seg_s=1.0), _eeg, 3, lambda: _rng().normal(size=(2, 4, 400))),
    (LBPTOP(grid=(2, 2)), _clips, 24 * 24, lambda: [np.zeros((5, 30, 30), np.uint8)]),
    (HOOF(grid=(2, 2)), _flows, 20 * 20 * 2, lambda: [np.zeros((2, 16, 16, 2))]),
    (MDMO(grid=(2, 2)), _flows, 20 * 20 * 2, lambda: [np.zeros((2, 16, 16, 2))]),
]
IDS = [type(e[0]).__name__ for e in NON_TABULAR]


def _take(X, idx):
    return X[idx] if isinstance(X, np.ndarray) else [X[i] for i in idx]


@pytest.mark.parametrize(("est", "make", "n_in", "other"), NON_TABULAR, ids=IDS)
def test_non_tabular_tags_and_why_sklearn_skips(est, make, n_in, other):
    tags = get_tags(est)
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array
    assert tags.input_tags.ragged is (not isinstance(est, EEGBandFeatures))
    assert tags.input_tags.allow_nan and not tags.target_tags.required
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = check_estimator(est, on_fail=None)
    assert all(r["status"] == "passed" for r in res) and len(res) <= 2
    assert any(issubclass(w.category, SkipTestWarning) and "Can't test estimator" in
               str(w.message) for w in rec)


@pytest.mark.parametrize(("est", "make", "n_in", "other"), NON_TABULAR, ids=IDS)
def test_non_tabular_contract(est, make, n_in, other):
    X = make()
    est = clone(est)
    params = est.get_params()
    with pytest.raises(NotFittedError):
        est.transform(X)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    assert est.fit(X) is est
    assert est.get_params() == params  # fit leaves the parameters alone
    assert est.n_features_in_ == n_in
    out = est.transform(X)
    assert out.shape == (len(X), len(est.get_feature_names_out()))
    assert len(set(est.get_feature_names_out())) == out.shape[1]
    np.testing.assert_array_equal(clone(est).fit(X).transform(X), out)  # idempotent
    np.testing.assert_array_equal(est.fit_transform(X), out)
    perm = np.array([2, 0, 4, 1, 3, 5])[: len(X)]
    np.testing.assert_array_equal(est.transform(_take(X, perm)), out[perm])
    np.testing.assert_allclose(np.vstack([est.transform(_take(X, [i])) for i in range(len(X))]),
                               out, rtol=1e-12)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), out)
    # bad input is a ValueError with a one-line message
    bad_inputs = [np.zeros((4, 10)), [], other(), [np.full((5, 24, 24), "a")]]
    for bad in bad_inputs:
        with pytest.raises(ValueError) as exc:
            est.transform(bad)
        assert "\n" not in str(exc.value)
    with pytest.raises(ValueError, match="3-D|expected"):
        clone(est).fit(np.zeros((4, 10)))


def test_nan_sample_gives_nan_row_not_zero():
    clips = _clips()
    clips[1] = clips[1].astype(float)
    clips[1][2] = np.nan
    out = LBPTOP(grid=(2, 2)).fit(clips).transform(clips)
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2, 3, 4]]).all()
    eeg = _eeg()
    eeg[2, 1, 5] = np.nan
    feats = EEGBandFeatures(sfreq=200.0, seg_s=1.0).fit(eeg).transform(eeg)
    assert np.isnan(feats[2]).any() and np.isfinite(feats[[0, 1, 3, 4, 5]]).all()


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


def test_subject_zscore_needs_groups_after_several():
    X = _rng().normal(size=(20, 3))
    g = np.repeat(["a", "b"], 10)
    z = SubjectZScore().fit(X, groups=g)
    with pytest.raises(ValueError, match="fitted on 2 subjects, transform needs groups"):
        z.transform(X)
    with pytest.warns(UserWarning, match="fitted without groups"):
        one = SubjectZScore().fit(X)
    np.testing.assert_allclose(one.transform(X), StandardScaler().fit_transform(X), atol=1e-12)
    with pytest.raises(ValueError, match=r"groups has shape \(3,\)"):
        SubjectZScore().fit(X, groups=["a", "b", "c"])
    z = SubjectZScore().fit(X, groups=g)
    assert list(z.get_feature_names_out()) == ["x0", "x1", "x2"]


def _offset_data(seed=3):
    """6 subjects whose features sit at subject-specific offsets 4x the class effect."""
    r = _rng(seed)
    Xs, ys, gs = [], [], []
    for s in range(6):
        y = np.tile([0, 1], 20)
        offset = r.normal(0, 4.0, 4)
        scale = r.uniform(0.5, 2.0, 4)
        x = (r.normal(0, 0.5, (40, 4)) + np.c_[2.0 * y - 1.0, -(2.0 * y - 1.0), 0 * y, 0 * y])
        Xs.append(x * scale + offset)
        ys.append(y)
        gs.append(np.full(40, f"S{s}"))
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(gs)


def test_subject_zscore_removes_subject_offsets_under_loso():
    X, y, g = _offset_data()
    logo = LeaveOneGroupOut()
    plain = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y,
                            groups=g, cv=logo)
    with sklearn.config_context(enable_metadata_routing=True):
        z = SubjectZScore().set_fit_request(groups=True).set_transform_request(groups=True)
        routed = cross_val_score(make_pipeline(z, LogisticRegression()), X, y, cv=logo,
                                 params={"groups": g})
    assert len(routed) == 6
    assert routed.mean() > 0.95 and routed.min() > 0.85
    assert plain.mean() < 0.8  # the offsets hide the effect from a pooled scaler
    # without routing the groups never arrive: a warning, and a plain scaler's result
    with pytest.warns(UserWarning, match="fitted without groups"):
        silent = cross_val_score(make_pipeline(SubjectZScore(), LogisticRegression()), X, y,
                                 groups=g, cv=logo)
    np.testing.assert_allclose(silent, plain)
