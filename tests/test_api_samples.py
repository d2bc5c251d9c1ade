"""Samples: ids, labels, groups, metadata and the modality accessors, on constructed stores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from store_builder import build_store

import mmme
from mmme.data import ANNOTATION_COLUMNS, Samples
from mmme.eeg import NEUROSCAN_62, NEUROSCAN_64
from mmme.errors import InputError
from mmme.physio.events import TIDY_COLUMNS

AMP = 1e-5  # 10 uV


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    events = [
        {"trial": "101", "onset_s": 20.0, "apex_s": 20.1, "offset_s": 20.3,
         "emotion": "disgust", "type": "ME"},
        {"trial": "102", "onset_s": 35.0, "apex_s": 35.2, "offset_s": 35.4,
         "emotion": "happy", "type": "ME"},
        {"trial": "103", "onset_s": 50.0, "apex_s": None, "offset_s": 51.5,
         "emotion": "others", "type": "ME"},  # no emotion3
        {"trial": "104", "onset_s": 58.8, "apex_s": 59.0, "offset_s": 59.9,
         "emotion": "surprise", "type": "MaE"},  # window runs past the end
    ]
    a = build_store(root / "a", minutes=1.0, subjects=("S01", "S02"), dataset="alpha",
                    eeg_names=[*NEUROSCAN_64, "HEO"], events=events,
                    sines={"FZ": (10.0, AMP), "OZ": (20.0, AMP)})
    b = build_store(root / "b", minutes=1.0, subjects=("S01",), dataset="beta",
                    eeg_names=[*NEUROSCAN_64, "HEO"], events=events, devices=("eeg",))
    return a, b


def test_from_store_rows_ids_labels_groups(stores):
    a, _ = stores
    s = mmme.data.Samples.from_store(mmme.read_store(a.path))
    # ME only, "others" has no emotion3: 2 per subject
    assert s.sample_id.tolist() == ["alpha/S01/1/101/0", "alpha/S01/1/102/1",
                                    "alpha/S02/1/101/4", "alpha/S02/1/102/5"]
    assert s.y.tolist() == ["negative", "positive", "negative", "positive"]
    assert s.groups.tolist() == ["alpha/S01", "alpha/S01", "alpha/S02", "alpha/S02"]
    assert s.classes == ["negative", "positive"]
    everything = Samples.from_store(a, types=None, label="emotion")
    assert len(everything) == 8 and "others" in everything.y.tolist()
    assert Samples.from_store(a, types=("MaE",), label="type").y.tolist() == ["MaE", "MaE"]
    mapped = Samples.from_store(a, types=None, label={"disgust": 1, "happiness": 0})
    assert mapped.y.tolist() == [1, 0, 1, 0]
    with pytest.raises(InputError, match="unlabelled, first 'alpha/S01/1/103/2'"):
        everything.with_label("emotion3")
    with pytest.raises(InputError, match="unknown label 'valence'"):
        Samples.from_store(a, label="valence")


def test_metadata_leaves_stimulus_out_unless_asked(stores):
    s = Samples.from_store(stores[0])
    meta = s.metadata
    assert meta.columns[0] == "sample_id"
    assert "marker" not in meta and "category" not in meta
    assert set(ANNOTATION_COLUMNS) - set(meta) == {"marker"}
    full = s.get_metadata(stimulus=True)
    assert full["marker"].tolist() == [101, 102, 101, 102]
    assert full["category"].tolist() == ["clip"] * 4


def test_concat_across_stores_and_missing_stream(stores):
    a, b = stores
    s = Samples.concat([Samples.from_store(a), Samples.from_store(b)])
    assert len(s) == 6 and s.groups.tolist()[-2:] == ["beta/S01", "beta/S01"]
    with pytest.raises(InputError, match="appears twice"):
        Samples.concat([Samples.from_store(a), Samples.from_store(a)])
    ep, mask = s.epochs("physio", -0.5, 0.5, picks="INDEX", return_mask=True)
    assert len(ep) == 6 and mask.tolist() == [True] * 4 + [False] * 2
    x = ep.get_data(copy=True)[:, 0]
    assert np.isnan(x[4:]).all() and np.isfinite(x[:4]).all()
    assert x[0, 500] == 20_000.0  # onset 20 s of an identity clock: sample 20000
    assert ep.metadata["sample_id"].tolist() == s.sample_id.tolist()
    sub = s[np.array([5, 0])]
    assert sub.sample_id.tolist() == ["beta/S01/1/102/1", "alpha/S01/1/101/0"]


def test_epochs_edge_rows_stay_nan(stores):
    s = Samples.from_store(stores[0], types=None, label="emotion")
    ep, mask = s.epochs("eeg", 0.0, 2.0, picks="FZ", return_mask=True)
    late = s.metadata["trial"].to_numpy() == "104"
    assert mask.tolist() == (~late).tolist()
    x = ep.get_data(copy=True)[late, 0]
    assert np.isfinite(x[:, :1000]).all() and np.isnan(x[:, -500:]).all()
    # apex missing falls back on the onset
    apex = s.epochs("eeg", 0.0, 0.0, picks="FP1", at="apex").get_data(copy=True)[:, 0, 0]
    onset = s.metadata["onset_s"].to_numpy()
    want = np.rint(np.where(s.metadata["apex_s"].isna(), onset, s.metadata["apex_s"]) * 1000)
    np.testing.assert_array_equal(apex, want)
    assert ep.get_montage() is not None
    with pytest.raises(InputError, match="at must be one of"):
        s.epochs("eeg", 0.0, 1.0, at="peak")
    with pytest.raises(InputError, match="no session of these samples has a 'video' stream"):
        s.epochs("video", 0.0, 1.0)


def test_eeg_features_band_power_of_planted_sines(stores):
    s = Samples.from_store(stores[0], types=None, label="emotion")
    X, mask = s.eeg_features(return_mask=True)
    assert X.shape == (8, 310) and list(X.index) == s.sample_id.tolist()
    assert X.columns[0] == "FP1_delta_power" and not X.filter(regex="^M[12]_").shape[1]
    assert [c.split("_")[0] for c in X.columns[::5]] == list(NEUROSCAN_62)
    ok = X[mask]
    # a sinusoid of amplitude A has power A^2 / 2, all in its band
    np.testing.assert_allclose(ok["FZ_alpha_power"], AMP**2 / 2, rtol=0.03)
    np.testing.assert_allclose(ok["OZ_beta_power"], AMP**2 / 2, rtol=0.03)
    assert (ok["FZ_beta_power"] < 0.01 * AMP**2).all()
    assert (ok["OZ_alpha_power"] < 0.01 * AMP**2).all()
    assert X[~mask].isna().all(axis=None) and (~mask).sum() == 2
    de = s.eeg_features(features=("de",))
    np.testing.assert_allclose(de.loc[ok.index, "FZ_alpha_de"],
                               0.5 * np.log(2 * np.pi * np.e * AMP**2 / 2), atol=0.03)


def _write_tidy(store, rows):
    path = store.path / "derived" / "physio" / "events.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["subject", "session", "trial", *TIDY_COLUMNS]).to_parquet(path)
    return path


def test_physio_features_align_by_event_and_mask_missing(stores, tmp_path):
    a = build_store(tmp_path / "p", minutes=1.0, subjects=("S01", "S02"), dataset="p")
    s = Samples.from_store(a, types=None, label="emotion")  # events 0..5, trials 101..103
    rows = []
    for subj, trial, event, base in (("S01", "102", 1, 10.0), ("S02", "101", 3, 20.0)):
        for ch, kind in (("EDA", "eda"), ("EMG A", "emg"), ("FZ", "eeg")):
            for win, off in (("baseline", 0.0), ("response", 1.5)):
                rows.append((subj, "1", trial, event, ch, kind, win, "onset", 0, 1, "mean",
                             base + off))
    with pytest.raises(InputError, match=r"derived/physio/events\.parquet.*mmme physio"):
        s.physio_features()
    _write_tidy(a, rows)
    X, mask = s.physio_features(return_mask=True)
    assert mask.tolist() == [False, True, False, True, False, False]
    assert sorted(X.columns) == list(X.columns) and not X.filter(like="FZ").shape[1]
    assert X.loc["p/S01/1/102/1", "EDA_response_mean"] == 11.5
    assert X.loc["p/S02/1/101/3", "EMG A_baseline_mean"] == 20.0
    assert X.loc["p/S02/1/101/3", "EDA_response-baseline_mean"] == 1.5
    assert X.iloc[[0, 2, 4, 5]].isna().all(axis=None)
    emg = s.physio_features(channels=["EMG A"], deltas=False)
    assert list(emg.columns) == ["EMG A_baseline_mean", "EMG A_response_mean"]


def test_event_without_a_time_is_a_nan_row(stores):
    s = Samples.from_store(stores[0])
    s._table.loc[1, "onset_s"] = np.nan  # as an annotation without a synchronised onset
    ep, mask = s.epochs("eeg", 0.0, 0.1, picks="FZ", return_mask=True)
    assert len(ep) == 4 and mask.tolist() == [True, False, True, True]
    assert np.isnan(ep.get_data(copy=True)[1]).all()
