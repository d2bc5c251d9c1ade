"""Spotting evaluation, exactly the MEGC protocol.

Intervals are inclusive frame ranges ``[onset, offset]``. A predicted interval and a true one of
the same video and type (ME or MaE) match when their intersection over union is at least 0.5
(``>=``: several published scorers use ``>`` by mistake), with

    inter = max(0, min(offset1, offset2) - max(onset1, onset2) + 1)
    union = len1 + len2 - inter,  len = offset - onset + 1.

Within each video and type, TP is the size of a *maximum* one-to-one matching between truths and
predictions (a greedy first-come pairing can miss matches when intervals overlap); FP are the
unmatched predictions, FN the unmatched truths. Counts are pooled over the videos (predictions on
a video with no coded expression are false positives), and "overall" pools the ME and MaE counts.
Precision, recall and F1 are 0 where their denominator is 0.

Examples
--------
>>> import pandas as pd
>>> truth = pd.DataFrame({"video": ["v1"], "onset": [10], "offset": [19], "type": ["ME"]})
>>> pred = pd.DataFrame({"video": ["v1", "v1"], "onset": [12, 40], "offset": [21, 45],
...                      "type": ["ME", "ME"]})
>>> score_spotting(truth, pred).counts["me"]
{'tp': 1, 'fp': 1, 'fn': 0, 'precision': 0.5, 'recall': 1.0, 'f1': 0.6666666666666666}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from mmme.errors import InputError

#: Expression types, as the MEGC protocol scores them.
TYPES: tuple[str, ...] = ("ME", "MaE")
#: IoU from which a prediction matches a truth (inclusive).
IOU_THRESHOLD = 0.5
#: Longest ME: 0.5 s, the frames of which decide a prediction's type when it has none.
ME_MAX_S = 0.5
_TYPE_SPELLINGS = {"me": "ME", "micro": "ME", "mae": "MaE", "macro": "MaE"}


def interval_iou(s1: int, e1: int, s2: int, e2: int) -> float:
    """IoU of two inclusive frame intervals, as MEGC defines it."""
    inter = max(0, min(e1, e2) - max(s1, s2) + 1)
    union = (e1 - s1 + 1) + (e2 - s2 + 1) - inter
    return inter / union if union > 0 else 0.0


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """``tp, fp, fn, precision, recall, f1`` (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def me_max_frames_at(fps: float) -> int:
    """Frames an interval may span to count as an ME: those within 0.5 s (inclusive count)."""
    if not fps > 0:
        raise InputError(f"frame rate must be positive, got {fps}")
    return int(np.floor(ME_MAX_S * fps + 1e-9))


@dataclass
class SpottingResult:
    """Pooled counts per type and overall, and the MEGC-style log of every interval."""

    counts: dict[str, dict[str, Any]]
    log: pd.DataFrame

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{"me": {...}, "mae": {...}, "overall": {...}}``."""
        return self.counts


def _normalise_type(v: Any, where: str, row: int) -> str:
    t = _TYPE_SPELLINGS.get(str(v).strip().lower())
    if t is None:
        raise InputError(f"type {v!r} is neither ME nor MaE", file=where, row=row)
    return t


def _intervals(df: pd.DataFrame, where: str, need_type: bool) -> pd.DataFrame:
    """Checked copy: ``video`` as str, ``onset``/``offset`` as int, ``type`` normalised."""
    cols = ["video", "onset", "offset"] + (["type"] if need_type else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; has {list(df.columns)}", file=where)
    out = df.copy().reset_index(drop=True)
    out["video"] = out["video"].astype(str).str.strip()
    for c in ("onset", "offset"):
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() | (v != np.round(v))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"column {c!r}: {df[c].iloc[i]!r} is not a frame number", file=where, row=i + 2
            )
        out[c] = v.astype(np.int64)
    back = np.flatnonzero((out["offset"] < out["onset"]).to_numpy())
    if len(back):
        i = int(back[0])
        raise InputError(
            f"offset {out['offset'].iloc[i]} before onset {out['onset'].iloc[i]}",
            file=where,
            row=i + 2,
        )
    if "type" in out.columns and out["type"].notna().all():
        out["type"] = [_normalise_type(v, where, i + 2) for i, v in enumerate(out["type"])]
    elif need_type:
        i = int(np.flatnonzero(out["type"].isna().to_numpy())[0])
        raise InputError("empty type", file=where, row=i + 2)
    return out


def _match(truth: pd.DataFrame, pred: pd.DataFrame) -> list[tuple[int, int, float]]:
    """Maximum one-to-one matching at IoU >= 0.5: ``(truth row, pred row, iou)``."""
    if truth.empty or pred.empty:
        return []
    ts, te = truth["onset"].to_numpy(), truth["offset"].to_numpy()
    ps, pe = pred["onset"].to_numpy(), pred["offset"].to_numpy()
    inter = np.maximum(0, np.minimum(te[:, None], pe[None, :]) - np.maximum(ts[:, None], ps) + 1)
    union = (te - ts + 1)[:, None] + (pe - ps + 1)[None, :] - inter
    iou = inter / union
    # integer comparison 2 * inter >= union: no float rounding at exactly 0.5
    ok = 2 * inter >= union
    if not ok.any():
        return []
    match = maximum_bipartite_matching(csr_matrix(ok.astype(np.int8)), perm_type="column")
    return [(i, int(j), float(iou[i, j])) for i, j in enumerate(match) if j >= 0]


def score_spotting(
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    me_max_frames: int | None = None,
    fps: float | None = None,
    truth_name: str = "truth",
    pred_name: str = "predictions",
) -> SpottingResult:
    """Score predicted intervals against the truth by the MEGC protocol.

    Parameters
    ----------
    truth : pandas.DataFrame
        Columns ``video, onset, offset, type`` (``type`` ME or MaE; inclusive frame numbers).
    pred : pandas.DataFrame
        Columns ``video, onset, offset`` and optionally ``type``. A prediction without a type is
        an ME when it spans at most ``me_max_frames`` frames, else an MaE.
    me_max_frames : int, optional
        The ME length limit in frames; default from ``fps`` (the frames in 0.5 s).
    fps : float, optional
        Frame rate, used only for the default of ``me_max_frames``.
    truth_name, pred_name : str
        Names of the sources, used in error messages (e.g. their file names).

    Returns
    -------
    SpottingResult
        ``counts`` with keys ``me``, ``mae``, ``overall`` (``tp, fp, fn, precision, recall,
        f1``) and ``log``: one row per matched pair, unmatched truth and unmatched prediction
        (``video, type, gt_onset, gt_offset, pred_onset, pred_offset, iou, result``).

    Raises
    ------
    mmme.errors.InputError
        A missing column, a non-integer frame, an offset before its onset, an unknown type, or
        predictions without a type and neither ``me_max_frames`` nor ``fps``.
    """
    truth = _intervals(truth, truth_name, need_type=True)
    pred = _intervals(pred, pred_name, need_type=False)
    if "type" not in pred.columns or pred["type"].isna().any():
        if me_max_frames is None:
            if fps is None:
                raise InputError(
                    "predictions without a type need --me-max-frames or --fps to tell ME from MaE",
                    file=pred_name,
                )
            me_max_frames = me_max_frames_at(fps)
        length = pred["offset"] - pred["onset"] + 1
        guessed = np.where(length <= me_max_frames, "ME", "MaE")
        pred["type"] = pred["type"].fillna(pd.Series(guessed)) if "type" in pred else guessed
    counts: dict[str, dict[str, Any]] = {}
    log_rows: list[dict[str, Any]] = []
    for typ in TYPES:
        tp = fp = fn = 0
        t_typ, p_typ = truth[truth["type"] == typ], pred[pred["type"] == typ]
        for video in sorted(set(t_typ["video"]) | set(p_typ["video"])):
            t = t_typ[t_typ["video"] == video].reset_index(drop=True)
            p = p_typ[p_typ["video"] == video].reset_index(drop=True)
            pairs = _match(t, p)
            tp += len(pairs)
            fp += len(p) - len(pairs)
            fn += len(t) - len(pairs)
            t_used = {i for i, _, _ in pairs}
            p_used = {j for _, j, _ in pairs}
            for i, j, iou in pairs:
                log_rows.append(
                    _log_row(video, typ, t.iloc[i], p.iloc[j], iou, "TP"),
                )
            for i in range(len(t)):
                if i not in t_used:
                    log_rows.append(_log_row(video, typ, t.iloc[i], None, 0.0, "FN"))
            for j in range(len(p)):
                if j not in p_used:
                    log_rows.append(_log_row(video, typ, None, p.iloc[j], 0.0, "FP"))
        counts[typ.lower()] = prf(tp, fp, fn)
    counts["overall"] = prf(*(sum(counts[t.lower()][k] for t in TYPES) for k in ("tp", "fp", "fn")))
    log = pd.DataFrame(log_rows, columns=LOG_COLUMNS)
    return SpottingResult(counts=counts, log=log)


LOG_COLUMNS = (
    "video",
    "type",
    "gt_onset",
    "gt_offset",
    "pred_onset",
    "pred_offset",
    "iou",
    "result",
)


def _log_row(
    video: str, typ: str, t: pd.Series | None, p: pd.Series | None, iou: float, result: str
) -> dict[str, Any]:
    return {
        "video": video,
        "type": typ,
        "gt_onset": None if t is None else int(t["onset"]),
        "gt_offset": None if t is None else int(t["offset"]),
        "pred_onset": None if p is None else int(p["onset"]),
        "pred_offset": None if p is None else int(p["offset"]),
        "iou": iou,
        "result": result,
    }


def strs(
    result: SpottingResult,
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    label: str = "emotion",
) -> dict[str, Any]:
    """Spot-then-recognise score: overall spotting F1 x UF1 of the labels on the true positives.

    Parameters
    ----------
    result : SpottingResult
        From :func:`score_spotting` on the same ``truth`` and ``pred``.
    truth, pred : pandas.DataFrame
        As given to :func:`score_spotting`, each with a ``label`` column.
    label : str
        The column holding the recognised class.

    Returns
    -------
    dict
        ``spotting_f1``, ``uf1`` and ``uar`` of the recognition on the matched pairs (UAR is the
        mean per-class *recall*; one public implementation averages precision instead),
        ``strs`` = spotting F1 x UF1, and ``n_tp``.
    """
    from mmme.recognition.metrics import recognition_scores

    for df, name in ((truth, "truth"), (pred, "predictions")):
        if label not in df.columns:
            raise InputError(f"{name} lack the label column {label!r}")
    tp = result.log[result.log["result"] == "TP"]
    key = ["video", "onset", "offset"]
    t = truth.assign(video=truth["video"].astype(str)).drop_duplicates(key).set_index(key)[label]
    p = pred.assign(video=pred["video"].astype(str)).drop_duplicates(key).set_index(key)[label]
    y_true = [t.loc[(r.video, r.gt_onset, r.gt_offset)] for r in tp.itertuples()]
    y_pred = [p.loc[(r.video, r.pred_onset, r.pred_offset)] for r in tp.itertuples()]
    f1 = result.counts["overall"]["f1"]
    if not y_true:
        return {"spotting_f1": f1, "uf1": 0.0, "uar": 0.0, "strs": 0.0, "n_tp": 0}
    rec = recognition_scores(y_true, y_pred)
    return {
        "spotting_f1": f1,
        "uf1": rec["uf1"],
        "uar": rec["uar"],
        "strs": f1 * rec["uf1"],
        "n_tp": len(y_true),
    }
