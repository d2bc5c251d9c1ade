"""Expression annotations: one tidy row per coded event.

The table is a :class:`pandas.DataFrame` with the columns of :data:`ANNOTATION_COLUMNS`. Every
reader (MMME coding files, classic data sets, generic CSV) produces it through
:func:`make_annotations`, so later stages see one schema whatever the source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Column name -> pandas dtype of the annotation table.
ANNOTATION_COLUMNS: dict[str, str] = {
    "subject": "string",
    "session": "string",
    "trial": "string",  # the trial's key: the clip marker for MMME, the clip folder elsewhere
    "marker": "Int64",  # stimulus marker of the trial (MMME), else missing
    "event": "Int64",  # running number, unique in a data set
    "onset_frame": "Int64",  # frame indices within the trial's video
    "apex_frame": "Int64",
    "offset_frame": "Int64",
    "onset_s": "float64",  # seconds on the session's common clock
    "apex_s": "float64",
    "offset_s": "float64",
    "onset_rel_s": "float64",  # seconds from the start of the trial's video
    "apex_rel_s": "float64",
    "offset_rel_s": "float64",
    "onset_stamp": "string",  # frame file-name stamps where the source gives them (MMME)
    "apex_stamp": "string",
    "offset_stamp": "string",
    "aus": "string",  # canonical AU codes joined by "+", see format_aus
    "emotion": "string",  # normalised fine label, see normalize_emotion
    "emotion_raw": "string",
    "emotion3": "string",  # negative / positive / surprise, missing for "others"
    "type": "string",  # ME or MaE: the coders' where given, else the rule's
    "type_coder": "string",
    "type_rule": "string",
    "flags": "string",  # ";"-joined flag names, see FLAGS
    "notes": "string",
    "source": "string",  # "file:row" of the coding file row
}

#: Flags a row can carry, with what they mean (``mmme validate`` lists them).
FLAGS: dict[str, str] = {
    "type_disagrees_with_rule": "coders' Macro/Micro differs from the ME duration rule",
    "apex_equals_offset": "apex frame equals the offset frame",
    "apex_equals_onset": "apex frame equals the onset frame",
    "apex_estimated": "apex missing in the source and estimated",
    "offset_from_apex": "offset missing (0) in the source, apex used",
    "time_frame_mismatch": "*Time column disagrees with the *Frame stamp",
    "unknown_emotion": "emotion label outside the known vocabulary",
    "no_recording": "the row's subject has no session folder (misspelled?): no clock times",
    "apex_out_of_range": "apex outside onset..offset in the source; estimated as the middle frame",
    "frame_clamped": "onset or offset beyond the clip's frames in the source; clamped to its end",
    "nearest_frame": "a frame number without a file in the source; the nearest frame used",
    "au_alternatives": "the AU cell lists alternatives (R12 or R15), kept joined by '|'",
    "aus_unreadable": "the AU cell could not be read; kept in the notes, AUs left empty",
    "combined_emotion": "several emotion labels joined by '+' (Surprise+Positive)",
    "type_unreadable": "the expression-type cell is not Micro/Macro; the data set's default used",
}

ME_MAX_DURATION_MS = 500
ME_MAX_ONSET_APEX_MS = 250

#: Normalised fine emotion labels and their spellings across data sets.
_EMOTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "angry", "angery"),
    "disgust": ("disgust", "disgusted", "disgusting"),
    "fear": ("fear", "fearful", "afraid"),
    "happiness": ("happiness", "happy", "happily", "joy"),
    "sadness": ("sadness", "sad"),
    "surprise": ("surprise", "surprised"),
    "contempt": ("contempt",),
    "tense": ("tense", "nervous", "nervousness", "tension"),
    "repression": ("repression",),
    "others": ("others", "other", "others/unknown"),
    "negative": ("negative",),
    "positive": ("positive",),
}
_EMOTION_LOOKUP = {s: k for k, v in _EMOTION_SYNONYMS.items() for s in v}

#: Fine label -> the MEGC three classes. "tense" is a negative-valence state (CAS(ME)^3 groups
#: it with the negative emotions); "others" has no three-class label.
EMOTION3: dict[str, str] = {
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "contempt": "negative",
    "tense": "negative",
    "repression": "negative",
    "negative": "negative",
    "happiness": "positive",
    "positive": "positive",
    "surprise": "surprise",
}


def normalize_emotion(label: Any) -> str:
    """Map a data set's emotion spelling to mmme's fine label (``"angry"`` -> ``"anger"``).

    Unknown labels are returned lower-cased and stripped, so nothing is silently merged.
    """
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return "others"
    key = str(label).strip().lower()
    return _EMOTION_LOOKUP.get(key, key)


def emotion_to_3class(label: str) -> str | None:
    """Three-class (negative/positive/surprise) label of a fine label, or ``None``."""
    return EMOTION3.get(normalize_emotion(label))


@dataclass(frozen=True, order=True)
class ActionUnit:
    """One FACS action unit with optional laterality and intensity.

    Parameters
    ----------
    number : int
        The AU number (e.g. 12).
    side : str | None
        ``"L"``, ``"R"`` (unilateral) or ``None``.
    intensity : str | None
        FACS intensity letter ``"A"``..``"E"`` or ``None``.
    """

    number: int
    side: str | None = None
    intensity: str | None = None
    static: bool = False

    @property
    def base(self) -> str:
        """The AU without laterality or intensity, e.g. ``"AU12"``."""
        return f"AU{self.number}"

    def __str__(self) -> str:
        side = f"{self.side}-" if self.side else ""
        return f"{side}AU{self.number}{self.intensity or ''}{'(k)' if self.static else ''}"


# "AU12B", "12", "L10", "R12", "AU L10", "L-AU10", "AU4(L)", "12L", "R 12 B", "AUR2", "T28" / "B28"
# (CAS(ME)^3's top/bottom prefixes), "12(k)" (4DME's static marker)
_AU_PATTERN = (
    r"(?<![A-Z])(?:(?P<pre>[LRTB])\s*-?\s*)?(?:AU\s*)?(?P<pre2>[LRTB])?\s*(?P<num>\d{1,3})"
    r"(?:\s*(?P<int>[A-E])(?![A-Z\d]))?(?:\s*\(\s*(?P<post>[LR])\s*\)|(?P<suf>[LR])(?![A-Z\d]))?"
    r"(?P<static>\s*\(\s*k\s*\))?"
)
_AU_TOKEN = re.compile(rf"^\s*{_AU_PATTERN}\s*$", re.IGNORECASE)
_AU_FIND = re.compile(_AU_PATTERN, re.IGNORECASE)
_AU_SEPARATORS = re.compile(r"^[\s,+;/&|\u3001\uff0c]*$")
#: Text between two AUs that makes them alternatives ("R12 or R15", canonical "R-AU12|R-AU15").
_AU_OR = re.compile(r"^\s*(?:or|\|)\s*$", re.IGNORECASE)


def _au_from_match(m: re.Match[str]) -> ActionUnit:
    side = m.group("pre") or m.group("pre2") or m.group("post") or m.group("suf")
    inten = m.group("int")
    return ActionUnit(
        int(m.group("num")),
        side.upper() if side else None,
        inten.upper() if inten else None,
        bool(m.group("static")),
    )


def parse_au(token: str) -> ActionUnit:
    """Parse one AU spelling (``"AU12B"``, ``"L10"``, ``"R12"``, ``"4"``) into an ActionUnit.

    Raises
    ------
    ValueError
        If the token is not an AU code.
    """
    m = _AU_TOKEN.match(token)
    if not m:
        raise ValueError(f"not an action unit code: {token!r}")
    return _au_from_match(m)


def parse_aus(text: Any) -> tuple[ActionUnit, ...]:
    """Parse an AU cell (``"AU4, AU7"``, ``"4+7"``, ``"L10 + R12B"``, ``"AU4+7"``, ``"T28+14"``,
    ``"AU4(k)+L7"``, ``"R12 or R15"``).

    Empty cells, ``"/"`` and ``"?"`` give an empty tuple. Duplicates are dropped; order kept;
    alternatives (see :func:`parse_au_groups`) are all listed.

    Raises
    ------
    ValueError
        Naming the text that is not an AU code.
    """
    out: list[ActionUnit] = []
    for group in parse_au_groups(text):
        out += [a for a in group if a not in out]
    return tuple(out)


def parse_au_groups(text: Any) -> list[tuple[ActionUnit, ...]]:
    """An AU cell as groups of alternatives: ``"4+R12 or R15"`` -> ``[(AU4,), (R-AU12, R-AU15)]``.

    ``or`` (and the canonical ``|``) joins the AUs on either side into one group; every other
    separator of :func:`parse_aus` starts a new group.

    Raises
    ------
    ValueError
        Naming the text that is not an AU code.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    s = str(text).strip()
    if s in ("", "/", "?", "-", "nan", "None", "<NA>"):
        return []
    groups: list[list[ActionUnit]] = []
    pos = 0
    for m in _AU_FIND.finditer(s):
        between = s[pos : m.start()]
        alternative = bool(groups) and bool(_AU_OR.match(between))
        if not alternative and not _AU_SEPARATORS.match(between):
            raise ValueError(f"not an action unit code: {between!r} in {s!r}")
        pos = m.end()
        au = _au_from_match(m)
        if alternative:
            if au not in groups[-1]:
                groups[-1].append(au)
        elif not any(g == [au] for g in groups):
            groups.append([au])
    if not _AU_SEPARATORS.match(s[pos:]):
        raise ValueError(f"not an action unit code: {s[pos:]!r} in {s!r}")
    return [tuple(g) for g in groups]


def format_au_groups(groups: Iterable[Sequence[ActionUnit]]) -> str:
    """Canonical text of AU groups: alternatives joined by ``|``, groups by ``+``."""
    return "+".join("|".join(str(a) for a in g) for g in groups)


def format_aus(aus: Iterable[ActionUnit]) -> str:
    """Canonical text of AUs: ``"AU4+L-AU10+AU12B"``."""
    return "+".join(str(a) for a in aus)


def base_aus(text: str | None) -> list[str]:
    """The base AU names (``"AU12"``) of a canonical AU string, one per AU."""
    if not text:
        return []
    return [a.base for a in parse_aus(str(text).replace("+", ","))]


def ms(seconds: float) -> int:
    """Seconds to whole milliseconds, rounding half away from zero."""
    return int(math.floor(abs(seconds) * 1000 + 0.5)) * (1 if seconds >= 0 else -1)


def me_rule(onset_s: float, apex_s: float | None, offset_s: float | None) -> str:
    """The authors' ME rule: ``"ME"`` if onset->offset <= 500 ms or onset->apex <= 250 ms.

    Durations are compared in whole milliseconds. A missing offset (or apex) leaves that
    criterion out.
    """
    total = None if offset_s is None or _isnan(offset_s) else ms(offset_s - onset_s)
    rise = None if apex_s is None or _isnan(apex_s) else ms(apex_s - onset_s)
    if total is not None and total <= ME_MAX_DURATION_MS:
        return "ME"
    if rise is not None and rise <= ME_MAX_ONSET_APEX_MS:
        return "ME"
    return "MaE"


def normalize_type(value: Any) -> str | None:
    """Coders' type column (``"Micro"``, ``"Macro"``, ``"Micro - 1/2"``, ``"ME"``) -> ME/MaE."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip().lower()
    if not s or s == "nan":
        return None
    if s.startswith("micro") or s in ("me", "micro-expression", "microexpression"):
        return "ME"
    if s.startswith("macro") or s in ("mae", "macro-expression", "macroexpression"):
        return "MaE"
    raise ValueError(f"unknown expression type {value!r} (expected Micro/Macro)")


def _isnan(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def make_annotations(
    records: Sequence[Mapping[str, Any]] | pd.DataFrame, fps: float | None = None
) -> pd.DataFrame:
    """Build an annotation table with the canonical columns and dtypes.

    With ``fps``, missing ``*_rel_s`` are derived from the frame indices (frame / fps).

    Derived columns are filled when missing: ``emotion3`` from ``emotion``, ``type_rule`` from the
    times (``*_rel_s`` or ``*_s``), ``type`` from the coders' type else the rule, and the flag
    ``type_disagrees_with_rule``. ``event`` is numbered from 0 when absent.
    """
    df = pd.DataFrame(records).copy() if not isinstance(records, pd.DataFrame) else records.copy()
    for col in ANNOTATION_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    df = df[list(ANNOTATION_COLUMNS)]
    if len(df) and fps:
        for p in ("onset", "apex", "offset"):
            frames = pd.to_numeric(df[f"{p}_frame"].astype("object"), errors="coerce")
            rel = pd.to_numeric(df[f"{p}_rel_s"].astype("object"), errors="coerce")
            df[f"{p}_rel_s"] = rel.where(rel.notna(), frames / fps)
    if len(df):
        df["emotion"] = [normalize_emotion(e) for e in df["emotion"]]
        df["emotion3"] = [
            e3 if not _isnan(e3) else emotion_to_3class(e)
            for e, e3 in zip(df["emotion"], df["emotion3"], strict=True)
        ]
        rules = []
        for _, r in df.iterrows():
            if not _isnan(r["type_rule"]):
                rules.append(r["type_rule"])
                continue
            on, ap, off = r["onset_rel_s"], r["apex_rel_s"], r["offset_rel_s"]
            if _isnan(on):
                on, ap, off = r["onset_s"], r["apex_s"], r["offset_s"]
            rules.append(pd.NA if _isnan(on) else me_rule(on, ap, off))
        df["type_rule"] = rules
        types, flags = [], []
        for coder, rule, typ, fl in zip(
            df["type_coder"], df["type_rule"], df["type"], df["flags"], strict=True
        ):
            fset = [f for f in ("" if _isnan(fl) else str(fl)).split(";") if f]
            if _isnan(typ):
                typ = rule if _isnan(coder) else coder
            if not _isnan(coder) and not _isnan(rule) and coder != rule:
                if "type_disagrees_with_rule" not in fset:
                    fset.append("type_disagrees_with_rule")
            types.append(typ)
            flags.append(";".join(fset))
        df["type"] = types
        df["flags"] = flags
        if df["event"].isna().all():
            df["event"] = np.arange(len(df))
    return _coerce(df).reset_index(drop=True)


def _coerce(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col, dtype in ANNOTATION_COLUMNS.items():
        s = df[col]
        if dtype == "float64":
            out[col] = pd.to_numeric(s.astype("object").where(s.notna(), np.nan)).astype(float)
        elif dtype == "Int64":
            out[col] = pd.to_numeric(s.astype("object").where(s.notna(), np.nan)).astype("Int64")
        else:
            out[col] = (
                s.astype("object")
                .where(s.notna(), None)
                .map(lambda v: v if v is None else str(v))
                .astype("string")
            )
    return pd.DataFrame(out, index=df.index)


def has_flag(df: pd.DataFrame, flag: str) -> pd.Series:
    """Boolean mask of rows carrying ``flag``."""
    return df["flags"].fillna("").str.split(";").map(lambda fs: flag in fs).astype(bool)
