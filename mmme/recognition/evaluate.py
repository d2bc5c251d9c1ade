"""Cross-validated predictions that cannot see the test subject.

:func:`cross_validate_predict` fits a fresh clone of the estimator on each fold's training
subjects only. Everything that learns from data — scaling, feature selection, hyper-parameters —
belongs inside the estimator (a scikit-learn ``Pipeline``), so it is refitted per fold; a
``param_grid`` is searched by an inner split *of the training subjects* (``GroupKFold``), never
on the test fold. Every fold is checked: a splitter whose training part holds a test subject is
refused, and feature columns that are stimulus metadata (clip category, marker, file name) are
refused, as they would predict the label without looking at the person.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> y = np.tile(["neg", "pos"], 20)
>>> X = rng.normal(size=(40, 3)) + (y == "pos")[:, None]
>>> groups = np.repeat([f"s{i}" for i in range(8)], 5)
>>> res = cross_validate_predict(LogisticRegression(), X, y, groups)
>>> len(res.predictions), res.predictions["fold"].nunique()
(40, 8)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from mmme.errors import InputError
from mmme.recognition.metrics import bootstrap_ci, per_subject_scores, recognition_scores
from mmme.recognition.protocols import LOSO

#: Column names (or their prefixes) that describe the stimulus, never the person.
STIMULUS_FIELDS: tuple[str, ...] = (
    "category",
    "marker",
    "trial",
    "clip",
    "stimulus",
    "filename",
    "video",
    "emotion",
)
# a field name, then anything but a letter ("clip_id", "emotion3"; not "markerless")
_STIMULUS_RE = re.compile(rf"^({'|'.join(STIMULUS_FIELDS)})(?![a-z])", re.IGNORECASE)


def check_features(X: Any) -> None:
    """Raise if a feature column is stimulus metadata or a label (named by its column)."""
    if isinstance(X, pd.DataFrame):
        bad = [str(c) for c in X.columns if _STIMULUS_RE.match(str(c))]
        if bad:
            raise InputError(
                f"feature column(s) {bad} describe the stimulus or the label, not the person: "
                "they are never features"
            )


@dataclass
class CVResult:
    """Pooled out-of-fold predictions and what each fold chose."""

    predictions: pd.DataFrame  # sample, group, fold, y_true, y_pred
    best_params: list[dict[str, Any]] = field(default_factory=list)

    def scores(
        self, classes: Sequence[Any] | None = None, n_boot: int = 2000, seed: int = 0
    ) -> dict[str, Any]:
        """UF1/UAR/accuracy pooled over folds, with subject-bootstrap 95 % intervals."""
        p = self.predictions
        out = recognition_scores(p["y_true"], p["y_pred"], classes=classes)
        ci = bootstrap_ci(
            p["y_true"], p["y_pred"], p["group"], classes=classes, n_boot=n_boot, seed=seed
        )
        out["uf1_ci"], out["uar_ci"] = list(ci["uf1"]), list(ci["uar"])
        out["n_subjects"] = int(p["group"].nunique())
        return out

    def per_subject(self) -> pd.DataFrame:
        p = self.predictions
        return per_subject_scores(p["y_true"], p["y_pred"], p["group"])


def _check_fold(k: int, train: np.ndarray, test: np.ndarray, g: np.ndarray) -> None:
    shared = sorted(set(g[train]) & set(g[test]))
    if shared:
        raise InputError(
            f"fold {k} trains on its test subject(s) {shared[:5]}: the splitter leaks; use a "
            "subject-wise protocol (mmme.recognition.protocols)"
        )


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else X[idx]


def fit_fold(
    estimator: Any,
    X_train: Any,
    y_train: np.ndarray,
    g_train: np.ndarray,
    param_grid: Mapping[str, Sequence[Any]] | None,
    inner_splits: int,
    seed: int,
) -> tuple[Any, dict[str, Any]]:
    """A fresh clone fitted on one fold's training subjects; hyper-parameters (if any) chosen
    by a subject-grouped inner split of those same subjects."""
    model = clone(estimator)
    if not param_grid:
        return model.fit(X_train, y_train), {}
    n_inner = min(inner_splits, len(set(g_train)))
    if n_inner < 2:
        raise InputError("model selection needs at least 2 training subjects")
    search = GridSearchCV(
        model,
        dict(param_grid),
        cv=GroupKFold(n_splits=n_inner, shuffle=True, random_state=seed),
        scoring="f1_macro",
        refit=True,
    )
    search.fit(X_train, y_train, groups=g_train)
    return search.best_estimator_, dict(search.best_params_)


def cross_validate_predict(
    estimator: Any,
    X: Any,
    y: Sequence[Any],
    groups: Sequence[Any],
    protocol: Any = None,
    *,
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    inner_splits: int = 3,
    sample_ids: Sequence[Any] | None = None,
    seed: int = 0,
) -> CVResult:
    """Out-of-fold predictions of ``estimator`` under a subject-wise protocol.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Cloned per fold; put scaling and feature selection inside it (a ``Pipeline``).
    X : array_like or pandas.DataFrame
        Features, one row per sample (DataFrame columns are checked by :func:`check_features`).
    y : sequence
        Labels.
    groups : sequence
        Subject of each sample (qualified by its data set when several are pooled).
    protocol : splitter, optional
        Default :class:`~mmme.recognition.protocols.LOSO`. Any ``split(X, y, groups)`` object is
        accepted, but a fold whose training part holds a test subject is an error.
    param_grid : mapping, optional
        Hyper-parameters to choose per fold by an inner ``GroupKFold`` over the training
        subjects (macro F1).
    inner_splits : int
        Folds of the inner split.
    sample_ids : sequence, optional
        Stable sample identifiers for the prediction table (default: row positions).
    seed : int
        Seed of the inner split.

    Returns
    -------
    CVResult
    """
    check_features(X)
    y_arr = np.asarray(pd.Series(list(y), dtype="object").astype(str))
    g = np.asarray(pd.Series(list(groups), dtype="object").astype(str))
    if not len(y_arr) == len(g) == len(X):
        raise InputError(f"{len(X)} feature rows, {len(y_arr)} labels, {len(g)} groups")
    ids = np.asarray(sample_ids if sample_ids is not None else np.arange(len(g)))
    protocol = protocol if protocol is not None else LOSO()
    rows, params = [], []
    for k, (train, test) in enumerate(protocol.split(X, y_arr, g)):
        _check_fold(k, train, test, g)
        model, best = fit_fold(
            estimator, _take(X, train), y_arr[train], g[train], param_grid, inner_splits, seed
        )
        pred = np.asarray(model.predict(_take(X, test))).astype(str)
        params.append(best)
        rows.append(
            pd.DataFrame(
                {
                    "sample": ids[test],
                    "group": g[test],
                    "fold": k,
                    "y_true": y_arr[test],
                    "y_pred": pred,
                }
            )
        )
    predictions = pd.concat(rows, ignore_index=True)
    return CVResult(predictions=predictions, best_params=params)
