"""Evaluation protocols as objects: which subjects each fold tests, and on which classes.

A protocol splits samples by *group* (the subject, qualified by its data set), never by sample:
a fold's test subjects appear in none of its training samples. Each protocol is a scikit-learn
splitter (``split(X, y, groups)``, ``get_n_splits``), so it also works in ``cross_val_score``.

Examples
--------
>>> import numpy as np
>>> groups = np.array(["s1", "s1", "s2", "s2", "s3"])
>>> [groups[test].tolist() for _, test in LOSO().split(groups, groups=groups)]
[['s1', 's1'], ['s2', 's2'], ['s3']]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from mmme.errors import InputError

#: Class sets by name: fine emotion (as mmme normalises it) -> class.
CLASS_SETS: dict[str, dict[str, str]] = {
    # MMME's 7 classes; the sample coding file says "tense" where the paper says contempt
    "7": {
        "disgust": "disgust",
        "fear": "fear",
        "surprise": "surprise",
        "happiness": "happiness",
        "anger": "anger",
        "sadness": "sadness",
        "contempt": "contempt",
        "tense": "contempt",
    },
    # MEGC2019 three classes
    "3": {
        "disgust": "negative",
        "fear": "negative",
        "anger": "negative",
        "sadness": "negative",
        "contempt": "negative",
        "tense": "negative",
        "repression": "negative",
        "negative": "negative",
        "happiness": "positive",
        "positive": "positive",
        "surprise": "surprise",
    },
    # CASME II's five classes (fear and sadness are too rare there and are left out)
    "5": {
        "happiness": "happiness",
        "disgust": "disgust",
        "repression": "repression",
        "surprise": "surprise",
        "others": "others",
    },
}


def class_mapping(spec: str | Path | Mapping[str, str]) -> dict[str, str]:
    """A class set by name (``"3"``, ``"5"``, ``"7"``), a mapping, or a CSV/JSON file of
    ``emotion,class`` rows. Emotions outside the mapping leave the benchmark."""
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    if str(spec) in CLASS_SETS:
        return dict(CLASS_SETS[str(spec)])
    path = Path(spec)
    if not path.is_file():
        raise InputError(
            f"class set {str(spec)!r} is neither one of {sorted(CLASS_SETS)} nor a file"
        )
    if path.suffix.lower() == ".json":
        import json

        try:
            obj = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc}", file=str(path)) from None
        if not isinstance(obj, dict):
            raise InputError("expected an object {emotion: class}", file=str(path))
        return {str(k): str(v) for k, v in obj.items()}
    df = pd.read_csv(path, dtype=str)
    if list(df.columns[:2]) != ["emotion", "class"]:
        raise InputError(f"expected columns emotion,class; has {list(df.columns)}", file=str(path))
    empty = np.flatnonzero(df[["emotion", "class"]].isna().any(axis=1).to_numpy())
    if len(empty):
        raise InputError("empty cell", file=str(path), row=int(empty[0]) + 2)
    return dict(zip(df["emotion"].str.strip(), df["class"].str.strip(), strict=True))


@dataclass
class Protocol(ABC):
    """Base of the protocols: a group-wise splitter with a name."""

    name: str = field(init=False, default="")

    @abstractmethod
    def _splitter(self, groups: np.ndarray) -> Any:
        """The scikit-learn splitter over ``groups``."""

    def split(
        self, X: Any, y: Any = None, groups: Sequence[Any] | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Train and test indices of each fold; ``groups`` (the subjects) is required."""
        if groups is None:
            raise InputError(f"protocol {self.name} splits by subject: groups are required")
        g = np.asarray(groups).astype(str)
        if len(set(g)) < 2:
            raise InputError(f"protocol {self.name} needs at least 2 subjects, got {len(set(g))}")
        for train, test in self._splitter(g).split(np.zeros(len(g)), None, g):
            # the guarantee every benchmark rests on, checked rather than assumed
            shared = set(g[train]) & set(g[test])
            if shared:
                raise RuntimeError(f"protocol {self.name}: subjects {sorted(shared)} on both sides")
            yield train, test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if groups is None:
            raise InputError(f"protocol {self.name} needs groups to count its folds")
        return self._splitter(np.asarray(groups).astype(str)).get_n_splits(groups=groups)


@dataclass
class LOSO(Protocol):
    """Leave one subject out: one fold per subject (the field's default)."""

    def __post_init__(self) -> None:
        self.name = "loso"

    def _splitter(self, groups: np.ndarray) -> Any:
        return LeaveOneGroupOut()


@dataclass
class SubjectKFold(Protocol):
    """k folds of whole subjects, shuffled by ``seed``."""

    n_splits: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        self.name = f"kfold{self.n_splits}"

    def _splitter(self, groups: np.ndarray) -> Any:
        n = len(set(groups))
        if n < self.n_splits:
            raise InputError(f"{self.n_splits} folds need {self.n_splits} subjects, got {n}")
        return GroupKFold(n_splits=self.n_splits, shuffle=True, random_state=self.seed)


@dataclass
class LeaveOneDatasetOut(Protocol):
    """Train on every data set but one, test on that one; ``groups`` are ``dataset/subject``
    (the data set is the part before the first ``/``)."""

    def __post_init__(self) -> None:
        self.name = "lodo"

    def _splitter(self, groups: np.ndarray) -> Any:
        return _ByPrefix()


class _ByPrefix:
    """LeaveOneGroupOut over the data-set prefix of ``dataset/subject`` groups."""

    def _datasets(self, groups: Any) -> np.ndarray:
        g = np.asarray(groups).astype(str)
        if not all("/" in x for x in g):
            raise InputError("leave-one-dataset-out needs groups of the form dataset/subject")
        return np.array([x.split("/", 1)[0] for x in g])

    def split(self, X: Any, y: Any, groups: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        d = self._datasets(groups)
        if len(set(d)) < 2:
            raise InputError(f"leave-one-dataset-out needs 2 data sets, got {sorted(set(d))}")
        yield from LeaveOneGroupOut().split(X, y, d)

    def get_n_splits(self, groups: Any = None) -> int:
        return len(set(self._datasets(groups)))


@dataclass
class MEGC2019(LOSO):
    """The MEGC2019 composite: CASME II + SAMM + SMIC-E, 3 classes, leave one subject out over
    the 68 subjects of the three data sets (groups ``dataset/subject``); scores are reported for
    the composite and for each data set."""

    datasets: tuple[str, ...] = ("casme-ii", "samm", "smic-e")
    classes: str = "3"

    def __post_init__(self) -> None:
        self.name = "megc2019"


PROTOCOLS = {"loso": LOSO, "kfold": SubjectKFold, "lodo": LeaveOneDatasetOut, "megc2019": MEGC2019}


def get_protocol(name: str, **kw: Any) -> Protocol:
    """A protocol by its CLI name (``loso``, ``kfold``, ``lodo``, ``megc2019``)."""
    if name not in PROTOCOLS:
        raise InputError(f"unknown protocol {name!r}; choose one of {sorted(PROTOCOLS)}")
    return PROTOCOLS[name](**kw)
