"""The MEGC2019 composite data set (See et al. 2019): SMIC-E HS + CASME II + SAMM in three classes.

Labels are regrouped into negative / positive / surprise; samples of other labels are left out.
The published composite has 442 samples of 68 subjects: SMIC 164 (16 subjects; 70/51/43),
CASME II 145 (24; 88/32/25), SAMM 133 (28; 92/26/15). CASME II's negative class is disgust and
repression only (its 2 fear and 7 sadness clips are not in the composite: the published 145
excludes them), SAMM's is anger, contempt, disgust, fear and sadness.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pandas as pd

from mmme.data.store import Store
from mmme.errors import InputError

#: Data set -> fine label -> MEGC2019 class.
MEGC2019_CLASSES: dict[str, dict[str, str]] = {
    "smic-e": {"negative": "negative", "positive": "positive", "surprise": "surprise"},
    "casme-ii": {
        "disgust": "negative",
        "repression": "negative",
        "happiness": "positive",
        "surprise": "surprise",
    },
    "samm": {
        "anger": "negative",
        "contempt": "negative",
        "disgust": "negative",
        "fear": "negative",
        "sadness": "negative",
        "happiness": "positive",
        "surprise": "surprise",
    },
}
#: The published composite: subjects, samples and samples per class.
MEGC2019_PUBLISHED: dict[str, dict[str, int]] = {
    "smic-e": {"subjects": 16, "samples": 164, "negative": 70, "positive": 51, "surprise": 43},
    "casme-ii": {"subjects": 24, "samples": 145, "negative": 88, "positive": 32, "surprise": 25},
    "samm": {"subjects": 28, "samples": 133, "negative": 92, "positive": 26, "surprise": 15},
}
COLUMNS = (
    "dataset",
    "subject",
    "subject_raw",
    "session",
    "trial",
    "event",
    "label",
    "emotion",
    "onset_frame",
    "apex_frame",
    "offset_frame",
    "flags",
)


def megc2019_table(stores: Iterable[Store | str | os.PathLike[str]]) -> pd.DataFrame:
    """The composite's samples from imported SMIC-E, CASME II and SAMM stores.

    Parameters
    ----------
    stores : iterable of Store or paths
        Stores whose ``dataset`` is ``smic-e``, ``casme-ii`` or ``samm`` (any subset).

    Returns
    -------
    DataFrame
        One row per sample (:data:`COLUMNS`); ``subject`` is ``"<dataset>/<subject>"`` so that
        leave-one-subject-out folds never mix data sets; ``label`` is the three-class label.

    Raises
    ------
    InputError
        For a store of another data set, or a data set given twice.
    """
    parts, seen = [], set()
    for s in stores:
        st = s if isinstance(s, Store) else Store(s)
        ds = st.meta.get("dataset")
        if ds not in MEGC2019_CLASSES:
            raise InputError(
                f"store of data set {ds!r} is not part of MEGC2019 ({', '.join(MEGC2019_CLASSES)})",
                file=str(st.path),
            )
        if ds in seen:
            raise InputError(f"data set {ds!r} given twice", file=str(st.path))
        seen.add(ds)
        a = st.annotations
        label = a["emotion"].astype("object").map(MEGC2019_CLASSES[ds])
        a = a[label.notna()].assign(label=label[label.notna()])
        parts.append(
            pd.DataFrame(
                {
                    "dataset": ds,
                    "subject": ds + "/" + a["subject"].astype(str),
                    "subject_raw": a["subject"].astype(str),
                    "session": a["session"].astype(str),
                    "trial": a["trial"].astype(str),
                    "event": a["event"],
                    "label": a["label"].astype(str),
                    "emotion": a["emotion"].astype(str),
                    "onset_frame": a["onset_frame"],
                    "apex_frame": a["apex_frame"],
                    "offset_frame": a["offset_frame"],
                    "flags": a["flags"],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]


def megc2019_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Subjects, samples and classes per data set and in total, next to the published figures."""
    out: dict[str, Any] = {}
    for ds, g in table.groupby("dataset", sort=True):
        counts = g["label"].value_counts()
        out[str(ds)] = {
            "subjects": int(g["subject"].nunique()),
            "samples": len(g),
            **{c: int(counts.get(c, 0)) for c in ("negative", "positive", "surprise")},
            "published": MEGC2019_PUBLISHED[str(ds)],
        }
    out["total"] = {
        "subjects": int(table["subject"].nunique()),
        "samples": len(table),
        "published": {"subjects": 68, "samples": 442},
    }
    return out
