"""MEGC2019 recognition metrics: hand-computed answers, scikit-learn agreement, bootstrap."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score
from typer.testing import CliRunner

import mmme.recognition.metrics as metrics
import mmme.spotting.evaluate as spot_eval
from mmme.cli import app
from mmme.errors import InputError
from mmme.recognition.metrics import (
    bootstrap_ci,
    confusion,
    per_subject_scores,
    recognition_scores,
    score_prediction_files,
)


def test_docstring_examples_hold():
    for mod in (metrics, spot_eval):
        assert doctest.testmod(mod).failed == 0


def test_hand_computed_uf1_uar():
    # a: TP1 FN1 -> F1 2/3, recall 1/2; b: TP1 FP2 -> F1 1/2, recall 1; c: FN1 -> 0, 0
    s = recognition_scores(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert s["uf1"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert s["uar"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert s["accuracy"] == pytest.approx(2 / 4)
    assert s["per_class"]["c"] == {"f1": 0.0, "recall": 0.0, "support": 1}


def test_counts_pool_over_folds_not_average():
    # fold 1 (subject 1): perfect on class a only; fold 2: all wrong
    t = ["a", "a", "b", "b"]
    p = ["a", "a", "a", "a"]
    pooled = recognition_scores(t, p)
    # a: TP2 FP2 FN0 -> F1 2/3; b: TP0 FN2 -> 0: UF1 = 1/3 (the per-fold mean would be 1/2)
    assert pooled["uf1"] == pytest.approx(1 / 3)
    per_fold = np.mean(
        [recognition_scores(t[:2], p[:2])["uf1"], recognition_scores(t[2:], p[2:])["uf1"]]
    )
    assert per_fold == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_sklearn_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    classes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "contempt"]
    n = int(rng.integers(5, 60))
    t = rng.choice(classes[: int(rng.integers(2, 8))], n)
    # predictions from a smaller set (classes never predicted) plus out-of-set labels
    p = rng.choice(classes[:3] + ["others"], n)
    labels = sorted(set(t))
    s = recognition_scores(t, p)
    assert s["uf1"] == pytest.approx(
        f1_score(t, p, labels=labels, average="macro", zero_division=0)
    )
    assert s["uar"] == pytest.approx(
        recall_score(t, p, labels=labels, average="macro", zero_division=0)
    )
    assert s["accuracy"] == pytest.approx(accuracy_score(t, p))


def test_confusion_counts_out_of_set_predictions():
    m = confusion(["a", "a", "b"], ["a", "x", "b"])
    assert m.loc["a", "a"] == 1 and m.loc["a", "(other)"] == 1 and m.loc["b", "b"] == 1
    assert m.to_numpy().sum() == 3


def test_bootstrap_resamples_subjects():
    t = np.array(["a", "b"] * 20)
    groups = np.repeat([f"s{i}" for i in range(10)], 4)
    # one subject: every resample is the same subject, so the interval is the point
    one = bootstrap_ci(t[:4], t[:4], groups[:4])
    assert one["uf1"] == (1.0, 1.0)
    p = t.copy()
    p[groups == "s3"] = "a"  # subject s3 is half wrong
    ci = bootstrap_ci(t, p, groups, n_boot=500)
    point = recognition_scores(t, p)["uf1"]
    assert ci["uf1"][0] < point < ci["uf1"][1] or ci["uf1"][1] == point
    assert ci["uf1"][1] == pytest.approx(1.0)  # resamples without s3 are perfect
    # the paired difference of a model with itself is exactly 0
    assert bootstrap_ci(t, p, groups, y_pred_b=p, n_boot=200) == {
        "uf1": (0.0, 0.0),
        "uar": (0.0, 0.0),
    }
    # paired difference perfect - flawed is >= 0 in every resample, > 0 when s3 is drawn
    d = bootstrap_ci(t, t, groups, y_pred_b=p, n_boot=500)
    assert d["uf1"][0] == pytest.approx(0.0) and d["uf1"][1] > 0.05


def test_per_subject_table():
    tab = per_subject_scores(["a", "b", "a", "b"], ["a", "b", "b", "b"], ["s1", "s1", "s2", "s2"])
    assert tab["subject"].tolist() == ["s1", "s2"]
    assert tab["accuracy"].tolist() == [1.0, 0.5]


def test_prediction_files_join_on_sample_and_name_gaps():
    truth = pd.DataFrame({"sample": ["x1", "x2", "x3"], "label": ["a", "b", "b"]})
    pred = pd.DataFrame({"sample": ["x3", "x1", "x2"], "label": ["b", "a", "a"]})  # other order
    s = score_prediction_files(truth, pred)
    assert s["accuracy"] == pytest.approx(2 / 3) and s["n"] == 3
    with pytest.raises(InputError, match=r"file p.csv: no prediction for 1 sample\(s\): 'x2'"):
        score_prediction_files(truth, pred.iloc[:2], pred_name="p.csv")
    extra = pd.concat([pred, pd.DataFrame({"sample": ["x9"], "label": ["a"]})])
    with pytest.raises(InputError, match=r"1 prediction\(s\) of samples not in the truth: 'x9'"):
        score_prediction_files(truth, extra)
    with pytest.raises(InputError, match=r"sample 'x1' appears more than once"):
        score_prediction_files(truth, pd.concat([pred, pred.iloc[[1]]]))


def test_cli_score_recognition_json(tmp_path):
    truth, pred = tmp_path / "t.csv", tmp_path / "p.csv"
    pd.DataFrame(
        {
            "sample": ["1", "2", "3", "4"],
            "label": ["a", "a", "b", "c"],
            "subject": ["s1", "s1", "s2", "s2"],
        }
    ).to_csv(truth, index=False)
    pd.DataFrame({"sample": ["1", "2", "3", "4"], "label": ["a", "b", "b", "b"]}).to_csv(
        pred, index=False
    )
    res = CliRunner().invoke(
        app, ["score", "recognition", "--truth", str(truth), "--pred", str(pred), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["uf1"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert out["per_class"]["b"] == {"f1": 0.5, "recall": 1.0, "support": 1}
    assert out["n"] == 4
    (tmp_path / "empty.csv").write_text("")
    res = CliRunner().invoke(
        app, ["score", "recognition", "--truth", str(truth), "--pred", str(tmp_path / "empty.csv")]
    )
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "missing column(s) ['sample', 'label']" in res.output
