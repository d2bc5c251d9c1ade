"""Neuroscan 64-channel names, their 10-05 positions and an MNE ``RawArray`` builder.

The MMME EEG uses the Neuroscan Quik-Cap spellings (``FP1``, ``FPZ``, ``FCZ``, ``CB1`` ...). mmme
keeps those names on the channels and takes each position from MNE's 10-05 template under its
standard spelling (``FP1`` -> ``Fp1``). ``CB1``/``CB2`` (cerebellar, below O1/O2) have no 10-05
position: by default they get the positions of ``I1``/``I2`` (the 10-05 sites just below O1/O2,
flagged as approximate), or none (``cb="none"``, left out of anything that needs positions).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import mne
import numpy as np

from mmme.errors import InputError
from mmme.io.layout import NEUROSCAN_64

#: Mastoid references, left out of the authors' 62-channel features.
MASTOIDS: tuple[str, ...] = ("M1", "M2")
#: The 62 scalp channels the MMME authors use for EEG features.
NEUROSCAN_62: tuple[str, ...] = tuple(c for c in NEUROSCAN_64 if c not in MASTOIDS)
#: Non-EEG channels of a Neuroscan recording and their MNE types.
EXTRA_TYPES: dict[str, str] = {
    "HEO": "eog",
    "VEO": "eog",
    "HEOG": "eog",
    "VEOG": "eog",
    "EKG": "ecg",
    "ECG": "ecg",
    "EMG": "emg",
    "TRIGGER": "stim",
    "STATUS": "stim",
}
#: Channels without a 10-05 position and the 10-05 site used to approximate them.
APPROX_POSITIONS: dict[str, str] = {"CB1": "I1", "CB2": "I2"}


def _template() -> mne.channels.DigMontage:
    # MNE 1.13 renamed the 10-05 template "standard_1005" to "colin27_1005"
    name = "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else (
        "standard_1005"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return mne.channels.make_standard_montage(name)


_TEMPLATE_CACHE: dict[str, object] = {}


def _template_positions() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(10-05 positions keyed by upper-case name, fiducials) in the head frame."""
    if "pos" not in _TEMPLATE_CACHE:
        m = _template()
        # positions in the head frame via a throw-away info
        info = mne.create_info(m.ch_names, 1000.0, "eeg")
        info.set_montage(m)
        pos = info.get_montage().get_positions()
        _TEMPLATE_CACHE["pos"] = {k.upper(): np.asarray(v) for k, v in pos["ch_pos"].items()}
        _TEMPLATE_CACHE["fid"] = {k: pos[k] for k in ("nasion", "lpa", "rpa")}
    return _TEMPLATE_CACHE["pos"], _TEMPLATE_CACHE["fid"]  # type: ignore[return-value]


def standard_name(name: str) -> str | None:
    """The 10-05 spelling of a channel name (``"FPZ"`` -> ``"Fpz"``), or None if it has none."""
    m = _template()
    lookup = {c.upper(): c for c in m.ch_names}
    return lookup.get(name.strip().upper())


def channel_type(name: str) -> str:
    """MNE channel type of a Neuroscan / 10-05 channel name (``misc`` when unknown)."""
    key = name.strip().upper()
    if key in EXTRA_TYPES:
        return EXTRA_TYPES[key]
    pos, _ = _template_positions()
    if key in pos or key in APPROX_POSITIONS:
        return "eeg"
    return "misc"


def make_montage(ch_names: Sequence[str], *, cb: str = "approx") -> mne.channels.DigMontage:
    """A montage with 10-05 positions for the given (Neuroscan-spelled) channel names.

    Parameters
    ----------
    ch_names : sequence of str
        Channel names; non-EEG and unknown names are skipped.
    cb : {"approx", "none"}
        ``"approx"`` puts CB1/CB2 at I1/I2; ``"none"`` leaves them without a position.
    """
    if cb not in ("approx", "none"):
        raise InputError(f"cb must be 'approx' or 'none', got {cb!r}")
    pos, fid = _template_positions()
    ch_pos = {}
    for c in ch_names:
        key = c.strip().upper()
        if key in pos:
            ch_pos[c] = pos[key]
        elif key in APPROX_POSITIONS and cb == "approx":
            ch_pos[c] = pos[APPROX_POSITIONS[key]]
    return mne.channels.make_dig_montage(ch_pos=ch_pos, coord_frame="head", **fid)


def make_raw(
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str] = NEUROSCAN_64,
    *,
    ch_types: Sequence[str] | None = None,
    cb: str = "approx",
    first_time: float = 0.0,
    scale: float = 1.0,
) -> mne.io.RawArray:
    """Wrap an EEG array in an MNE ``RawArray`` with Neuroscan names, types and a 10-05 montage.

    Parameters
    ----------
    data : numpy.ndarray
        ``(n_channels, n_times)`` in volts (or pass ``scale``, e.g. ``1e-6`` for microvolts).
    sfreq : float
        Sampling frequency in Hz.
    ch_names : sequence of str
        One name per row; HEO/VEO become ``eog``, EKG ``ecg``, EMG ``emg``, Trigger ``stim``.
    ch_types : sequence of str | None
        Override the inferred types.
    cb : {"approx", "none"}
        CB1/CB2 positions, see :func:`make_montage`.
    first_time : float
        Time of the first sample (common clock); kept as ``raw.first_samp`` when whole samples.
    scale : float
        Factor applied to the data (not to stim channels).

    Returns
    -------
    mne.io.RawArray
        With a montage set; channels without positions (CB1/CB2 when ``cb="none"``) are kept.
    """
    arr = np.asarray(data, dtype=float)
    names = list(ch_names)
    if arr.ndim != 2 or arr.shape[0] != len(names):
        raise InputError(
            f"data of shape {arr.shape} does not match {len(names)} channel names "
            "(expected (n_channels, n_times))"
        )
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise InputError(f"duplicate channel names {dup}")
    types = list(ch_types) if ch_types is not None else [channel_type(c) for c in names]
    if scale != 1.0:
        arr = arr * np.where(np.asarray(types) == "stim", 1.0, scale)[:, None]
    info = mne.create_info(names, float(sfreq), types)
    first_samp = int(round(first_time * sfreq))
    raw = mne.io.RawArray(arr, info, first_samp=first_samp, verbose="error")
    eeg = [c for c, t in zip(names, types, strict=True) if t == "eeg"]
    if eeg:
        raw.set_montage(make_montage(eeg, cb=cb), on_missing="ignore", verbose="error")
    return raw
