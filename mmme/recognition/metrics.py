"""Recognition metrics exactly as MEGC2019 defines them, with subject-level bootstrap intervals.

With TP, FP and FN of each class pooled over all folds (never averaged per fold),

    UF1 = mean over classes c of 2 TP_c / (2 TP_c + FP_c + FN_c)
    UAR = mean over classes c of TP_c / N_c,

the classes being those of the truth (a predicted label outside them is simply wrong: it adds an
FN to the true class and an FP to no class). Confidence intervals resample *subjects* with
replacement, the unit that leave-one-subject-out generalises over; a paired interval for the
difference of two models resamples the same subjects for both.

Examples
--------
>>> round(recognition_scores(["a", "a", "b", "c"], ["a", "b", "b", "b"])["uf1"], 4)
0.3889
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmme.errors import InputError

#: Bootstrap resamples of the confidence intervals.
N_BOOT = 2000


def _as_labels(y: Any) -> np.ndarray:
    return np.asarray(pd.Series(list(y), dtype="object").astype(str))


def confusion(
    y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Confusion matrix, rows = truth, columns = prediction (predicted labels outside the
    classes are counted in an extra ``(other)`` column)."""
    t, p = _as_labels(y_true), _as_labels(y_pred)
    cls = [str(c) for c in classes] if classes is not None else sorted(set(t))
    cols = cls + (["(other)"] if not set(p) <= set(cls) else [])
    p = np.where(np.isin(p, cls), p, "(other)")
    m = pd.crosstab(pd.Categorical(t, cls), pd.Categorical(p, cols), dropna=False)
    m.index.name, m.columns.name = "truth", "prediction"
    return m


def _counts(t: np.ndarray, p: np.ndarray, cls: Sequence[str]) -> np.ndarray:
    """``(n_classes, 3)`` array of TP, FP, FN per class."""
    out = np.empty((len(cls), 3), dtype=np.int64)
    for k, c in enumerate(cls):
        tc, pc = t == c, p == c
        out[k] = ((tc & pc).sum(), (~tc & pc).sum(), (tc & ~pc).sum())
    return out


def _uf1_uar(counts: np.ndarray) -> tuple[float, float]:
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    denom_f1, support = 2 * tp + fp + fn, tp + fn
    f1 = np.divide(2 * tp, denom_f1, out=np.zeros(len(tp)), where=denom_f1 > 0)
    rec = np.divide(tp, support, out=np.zeros(len(tp)), where=support > 0)
    present = support > 0  # a class absent from the truth (in a resample) has no recall
    return float(f1[present].mean()), float(rec[present].mean())


def recognition_scores(
    y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any] | None = None
) -> dict[str, Any]:
    """UF1, UAR, accuracy and per-class F1 / recall / support of pooled predictions.

    Parameters
    ----------
    y_true, y_pred : sequence
        True and predicted labels of every test sample of every fold, pooled.
    classes : sequence, optional
        The classes to average over; default those of ``y_true``.

    Returns
    -------
    dict
        ``uf1``, ``uar``, ``accuracy``, ``n`` and ``per_class`` (label -> ``f1``, ``recall``,
        ``support``).
    """
    t, p = _as_labels(y_true), _as_labels(y_pred)
    if len(t) != len(p):
        raise InputError(f"{len(t)} true labels but {len(p)} predictions")
    if len(t) == 0:
        raise InputError("no samples to score")
    cls = [str(c) for c in classes] if classes is not None else sorted(set(t))
    counts = _counts(t, p, cls)
    uf1, uar = _uf1_uar(counts)
    per_class = {}
    for c, (tp, fp, fn) in zip(cls, counts, strict=True):
        per_class[c] = {
            "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "support": int(tp + fn),
        }
    return {
        "uf1": uf1,
        "uar": uar,
        "accuracy": float(np.mean(t == p)),
        "n": len(t),
        "per_class": per_class,
    }


def _subject_index(groups: Sequence[Any]) -> list[np.ndarray]:
    g = _as_labels(groups)
    return [np.flatnonzero(g == s) for s in sorted(set(g))]


def bootstrap_ci(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    groups: Sequence[Any],
    *,
    classes: Sequence[Any] | None = None,
    y_pred_b: Sequence[Any] | None = None,
    n_boot: int = N_BOOT,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of UF1 and UAR, resampling subjects.

    With ``y_pred_b`` the intervals are of the paired difference ``a - b`` (the same resampled
    subjects score both prediction sets), e.g. fused minus face.

    Returns
    -------
    dict
        ``{"uf1": (lo, hi), "uar": (lo, hi)}``.
    """
    t, pa = _as_labels(y_true), _as_labels(y_pred)
    pb = None if y_pred_b is None else _as_labels(y_pred_b)
    cls = [str(c) for c in classes] if classes is not None else sorted(set(t))
    subjects = _subject_index(groups)
    if len(groups) != len(t):
        raise InputError(f"{len(t)} samples but {len(groups)} subject labels")
    # per-subject count tables: a resample's pooled counts are sums of them
    ca = np.stack([_counts(t[i], pa[i], cls) for i in subjects])
    cb = None if pb is None else np.stack([_counts(t[i], pb[i], cls) for i in subjects])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(subjects), size=(n_boot, len(subjects)))
    stats = np.empty((n_boot, 2))
    for b, idx in enumerate(draws):
        sa = np.array(_uf1_uar(ca[idx].sum(axis=0)))
        stats[b] = sa if cb is None else sa - np.array(_uf1_uar(cb[idx].sum(axis=0)))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha], axis=0)
    return {"uf1": (float(lo[0]), float(hi[0])), "uar": (float(lo[1]), float(hi[1]))}


def per_subject_scores(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    groups: Sequence[Any],
    classes: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """One row per subject: ``subject, n, accuracy, uf1, uar`` (over the classes it shows)."""
    t, p, g = _as_labels(y_true), _as_labels(y_pred), _as_labels(groups)
    rows = []
    for s in sorted(set(g)):
        i = g == s
        sc = recognition_scores(t[i], p[i], classes=sorted(set(t[i])))
        rows.append(
            {
                "subject": s,
                "n": int(i.sum()),
                "accuracy": sc["accuracy"],
                "uf1": sc["uf1"],
                "uar": sc["uar"],
            }
        )
    return pd.DataFrame(rows, columns=["subject", "n", "accuracy", "uf1", "uar"])


def score_prediction_files(
    truth: pd.DataFrame,
    pred: pd.DataFrame,
    *,
    truth_name: str = "truth",
    pred_name: str = "predictions",
) -> dict[str, Any]:
    """Join ``sample,label`` tables on ``sample`` and score them (``mmme score recognition``).

    Every truth sample needs exactly one prediction and every prediction a truth sample: a
    missing or extra row is an error naming the samples, never silently dropped.
    """
    for df, name in ((truth, truth_name), (pred, pred_name)):
        missing = [c for c in ("sample", "label") if c not in df.columns]
        if missing:
            raise InputError(f"missing column(s) {missing}; has {list(df.columns)}", file=name)
        ids = df["sample"].astype(str)
        dup = ids[ids.duplicated()]
        if len(dup):
            raise InputError(f"sample {dup.iloc[0]!r} appears more than once", file=name)
        empty = np.flatnonzero(df["label"].isna().to_numpy())
        if len(empty):
            raise InputError("empty label", file=name, row=int(empty[0]) + 2)
    t = truth.set_index(truth["sample"].astype(str))["label"].astype(str)
    p = pred.set_index(pred["sample"].astype(str))["label"].astype(str)

    def listed(ids: pd.Index) -> str:
        return ", ".join(map(repr, ids[:5])) + (" ..." if len(ids) > 5 else "")

    lacking, extra = t.index.difference(p.index), p.index.difference(t.index)
    if len(lacking):
        raise InputError(
            f"no prediction for {len(lacking)} sample(s): {listed(lacking)}", file=pred_name
        )
    if len(extra):
        raise InputError(
            f"{len(extra)} prediction(s) of samples not in the truth: {listed(extra)}",
            file=pred_name,
        )
    return recognition_scores(t.to_numpy(), p.loc[t.index].to_numpy())
