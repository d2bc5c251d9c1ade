"""MEGC spotting evaluation on hand-made cases whose counts are worked out in the comments."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmme.cli import app
from mmme.errors import InputError
from mmme.spotting.evaluate import interval_iou, me_max_frames_at, score_spotting


def _t(*rows):
    return pd.DataFrame(rows, columns=["video", "onset", "offset", "type"])


def _counts(truth, pred, key="me", **kw):
    c = score_spotting(truth, pred, **kw).counts[key]
    return c["tp"], c["fp"], c["fn"]


def test_iou_is_inclusive_frames():
    assert interval_iou(0, 9, 0, 9) == 1.0
    assert interval_iou(0, 9, 9, 18) == pytest.approx(1 / 19)  # one shared frame
    assert interval_iou(0, 9, 10, 19) == 0.0  # adjacent, no shared frame
    assert interval_iou(0, 9, 0, 19) == 0.5


def test_iou_exactly_one_half_counts_and_just_below_does_not():
    truth = _t(("v", 0, 9, "ME"))
    assert _counts(truth, _t(("v", 0, 19, "ME"))) == (1, 0, 0)  # 10 / 20
    assert _counts(truth, _t(("v", 0, 4, "ME"))) == (1, 0, 0)  # 5 / 10
    assert _counts(truth, _t(("v", 0, 20, "ME"))) == (0, 1, 1)  # 10 / 21
    assert _counts(truth, _t(("v", 0, 3, "ME"))) == (0, 1, 1)  # 4 / 10


def test_two_predictions_on_one_truth_give_one_tp_and_one_fp():
    truth = _t(("v", 10, 19, "ME"))
    pred = _t(("v", 10, 19, "ME"), ("v", 11, 20, "ME"))
    assert _counts(truth, pred) == (1, 1, 0)


def test_a_prediction_overlapping_two_truths_matches_one():
    # IoU 8/12 with each truth
    truth = _t(("v", 0, 9, "ME"), ("v", 4, 13, "ME"))
    assert _counts(truth, _t(("v", 2, 11, "ME"))) == (1, 0, 1)


def test_matching_is_maximum_not_greedy():
    # P1 fits both truths (IoU 7/13), P2 only A (9/10): a greedy pass in prediction order gives
    # P1 to A and leaves P2 unmatched; the maximum matching pairs P1-B and P2-A
    truth = _t(("v", 0, 9, "ME"), ("v", 6, 15, "ME"))
    pred = _t(("v", 3, 12, "ME"), ("v", 0, 8, "ME"))
    res = score_spotting(truth, pred)
    assert (res.counts["me"]["tp"], res.counts["me"]["fp"], res.counts["me"]["fn"]) == (2, 0, 0)
    pairs = sorted((r.gt_onset, r.pred_onset) for r in res.log.itertuples() if r.result == "TP")
    assert pairs == [(0, 0), (6, 3)]


def test_types_and_videos_are_matched_apart_and_pooled_overall():
    truth = _t(("v1", 0, 9, "ME"), ("v1", 100, 199, "MaE"), ("v2", 50, 59, "ME"))
    pred = _t(
        ("v1", 0, 9, "MaE"),  # right place, wrong type: FP for MaE, the ME stays FN
        ("v1", 100, 190, "MaE"),  # TP MaE
        ("v2", 0, 9, "ME"),  # right frames, wrong video: FP, and v2's ME is FN
        ("v9", 0, 9, "ME"),  # an uncoded video: FP
    )
    res = score_spotting(truth, pred)
    me, mae, overall = res.counts["me"], res.counts["mae"], res.counts["overall"]
    assert (me["tp"], me["fp"], me["fn"]) == (0, 2, 2)
    assert (mae["tp"], mae["fp"], mae["fn"]) == (1, 1, 0)
    assert (overall["tp"], overall["fp"], overall["fn"]) == (1, 3, 2)
    assert overall["precision"] == pytest.approx(1 / 4)
    assert overall["recall"] == pytest.approx(1 / 3)
    assert overall["f1"] == pytest.approx(2 * 1 / (2 * 1 + 3 + 2))
    assert len(res.log) == 1 + 3 + 2  # one row per pair, FP and FN
    assert set(res.log[res.log["video"] == "v9"]["result"]) == {"FP"}


def test_empty_inputs_give_zero_not_nan():
    empty = _t()
    for key in ("me", "mae", "overall"):
        c = score_spotting(empty, empty).counts[key]
        assert c == {"tp": 0, "fp": 0, "fn": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    c = score_spotting(_t(("v", 0, 9, "ME")), empty).counts["me"]
    assert (c["tp"], c["fn"], c["recall"], c["f1"]) == (0, 1, 0.0, 0.0)


def test_untyped_predictions_split_at_half_a_second():
    assert me_max_frames_at(30) == 15
    assert me_max_frames_at(200) == 100
    assert me_max_frames_at(150) == 75
    truth = _t(("v", 0, 14, "ME"), ("v", 100, 115, "MaE"))
    pred = pd.DataFrame({"video": ["v", "v"], "onset": [0, 100], "offset": [14, 115]})
    res = score_spotting(truth, pred, fps=30)  # 15 frames: ME; 16 frames: MaE
    assert res.counts["me"]["tp"] == 1 and res.counts["mae"]["tp"] == 1
    res = score_spotting(truth, pred, me_max_frames=16)
    assert res.counts["me"]["tp"] == 1 and res.counts["me"]["fp"] == 1
    assert res.counts["mae"]["fn"] == 1
    with pytest.raises(InputError, match="need --me-max-frames or --fps"):
        score_spotting(truth, pred)


def test_bad_rows_are_named():
    with pytest.raises(InputError, match=r"file p.csv, row 3: offset 5 before onset 9"):
        score_spotting(_t(), _t(("v", 0, 9, "ME"), ("v", 9, 5, "ME")), pred_name="p.csv")
    with pytest.raises(InputError, match=r"row 2: type 'blink' is neither ME nor MaE"):
        score_spotting(_t(("v", 0, 9, "blink")), _t())
    with pytest.raises(InputError, match=r"row 2: column 'onset': '1.5' is not a frame number"):
        score_spotting(_t(("v", "1.5", 9, "ME")), _t())


def test_cli_json_and_log(tmp_path):
    truth, pred, log = tmp_path / "t.csv", tmp_path / "p.csv", tmp_path / "log.csv"
    _t(("v1", 0, 9, "ME"), ("v1", 100, 199, "MaE")).to_csv(truth, index=False)
    pd.DataFrame({"video": ["v1", "v1"], "onset": [1, 300], "offset": [10, 360]}).to_csv(
        pred, index=False
    )
    res = CliRunner().invoke(
        app,
        [
            "score",
            "spotting",
            "--truth",
            str(truth),
            "--pred",
            str(pred),
            "--fps",
            "100",
            "--json",
            "--log",
            str(log),
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["me"] == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert (out["mae"]["tp"], out["mae"]["fp"], out["mae"]["fn"]) == (0, 1, 1)
    assert out["overall"]["f1"] == pytest.approx(2 / 4)
    logged = pd.read_csv(log)
    assert sorted(logged["result"]) == ["FN", "FP", "TP"]
    assert list(logged.columns) == [
        "video",
        "type",
        "gt_onset",
        "gt_offset",
        "pred_onset",
        "pred_offset",
        "iou",
        "result",
    ]


def test_cli_bad_file_is_one_line_without_traceback(tmp_path):
    truth = tmp_path / "t.csv"
    truth.write_text("video,onset,offset,type\nv,0,9,ME\nv,12,3,ME\n")
    res = CliRunner().invoke(
        app, ["score", "spotting", "--truth", str(truth), "--pred", str(truth)]
    )
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"file {truth}, row 3: offset 3 before onset 12" in lines[0]


def test_strs_multiplies_spotting_f1_by_uf1_on_true_positives():
    from mmme.spotting.evaluate import strs

    truth = _t(("v", 0, 9, "ME"), ("v", 50, 59, "ME"), ("v", 100, 109, "ME"), ("v", 200, 209, "ME"))
    truth["emotion"] = ["happy", "happy", "sad", "sad"]
    pred = _t(("v", 0, 9, "ME"), ("v", 50, 59, "ME"), ("v", 100, 109, "ME"), ("v", 400, 409, "ME"))
    pred["emotion"] = ["happy", "sad", "sad", "happy"]
    res = score_spotting(truth, pred)
    out = strs(res, truth, pred)
    # spotting: TP 3, FP 1, FN 1 -> F1 6/8; on the 3 TPs: happy TP1 FN1 (F1 2/3, recall 1/2),
    # sad TP1 FP1 (F1 2/3, recall 1): UF1 2/3
    assert out["spotting_f1"] == pytest.approx(0.75)
    assert out["uf1"] == pytest.approx(2 / 3)
    assert out["strs"] == pytest.approx(0.75 * 2 / 3)
    assert out["n_tp"] == 3
    # recall vs precision: truth happy x3, predicted happy, sad, sad -> happy recall 1/3,
    # sad recall undefined (not in the truth): UAR = 1/3; the mean precision would be (1 + 0)/2
    t2 = _t(("v", 0, 9, "ME"), ("v", 50, 59, "ME"), ("v", 100, 109, "ME"))
    t2["emotion"] = ["happy"] * 3
    p2 = t2.assign(emotion=["happy", "sad", "sad"])
    out = strs(score_spotting(t2, p2), t2, p2)
    assert out["uar"] == pytest.approx(1 / 3)
