"""Neuroscan Curry recordings (``Acquisition 01.cdt`` + ``.cdt.dpa``/``.cdt.cef``) through MNE.

:func:`read_curry` opens the recording with :func:`mne.io.read_raw_curry` (which needs the
``curryreader`` package) and re-labels its annotations with the integer event types of the Curry
event file, so that markers read the same way as from EDF/BDF whatever text the events' remarks
hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmme.errors import InputError

#: Curry event files, newest first (``.cef`` for acquisitions, ``.ceo`` for edited ones).
EVENT_SUFFIXES = (".cdt.cef", ".cdt.ceo")
_NUMBERS_PER_EVENT = 11  # sample, ?, type, ?, start, end, ... (Curry's NUMBER_LIST layout)


def curry_events(path: str | Path) -> pd.DataFrame:
    """Events of a Curry recording: ``sample, code`` from its ``NUMBER_LIST`` (empty if none).

    Raises
    ------
    InputError
        If the list is not a whole number of events of 11 integers.
    """
    path = Path(path)
    for suffix in EVENT_SUFFIXES:
        ev = path.with_name(path.name + suffix.removeprefix(".cdt"))
        if ev.is_file():
            break
    else:
        return pd.DataFrame({"sample": [], "code": []}, dtype="int64")
    text = ev.read_text(errors="replace")
    a = text.find("NUMBER_LIST START_LIST")
    b = text.find("NUMBER_LIST END_LIST")
    if a < 0 or b < a:
        return pd.DataFrame({"sample": [], "code": []}, dtype="int64")
    body = text[text.find("\n", a) : b].split()
    if len(body) % _NUMBERS_PER_EVENT:
        raise InputError(
            f"NUMBER_LIST has {len(body)} numbers, not a multiple of {_NUMBERS_PER_EVENT}",
            file=str(ev),
        )
    try:
        nums = np.array(body, dtype=np.int64).reshape(-1, _NUMBERS_PER_EVENT)
    except ValueError as exc:
        raise InputError(f"NUMBER_LIST: {exc}", file=str(ev)) from None
    return pd.DataFrame({"sample": nums[:, 0], "code": nums[:, 2]})


def read_curry(path: str | Path, preload: bool = False) -> Any:
    """Open a Curry recording with MNE; annotations are the integer event codes.

    Raises
    ------
    InputError
        Naming the file when MNE/curryreader cannot read it.
    """
    import mne

    path = Path(path)
    try:
        raw = mne.io.read_raw_curry(path, preload=preload, verbose="error")
    except Exception as exc:  # MNE and curryreader raise many types for damaged files
        raise InputError(f"cannot read Curry recording: {exc}", file=str(path)) from exc
    ev = curry_events(path)
    if len(ev):
        sfreq = raw.info["sfreq"]
        raw.set_annotations(
            mne.Annotations(
                ev["sample"].to_numpy() / sfreq,
                np.zeros(len(ev)),
                [str(int(c)) for c in ev["code"]],
                orig_time=raw.annotations.orig_time,
            )
        )
    return raw
