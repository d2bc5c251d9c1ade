"""Writers of the raw MMME layout (``docs/raw_layout.md``): frames, EDF/SET, BIOPAC .mat, xlsx.

Every file is written to a temporary sibling and moved into place (:func:`mmme.utils.atomic_path`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mmme.errors import InputError
from mmme.utils import atomic_path

#: BIOPAC channel labels of the MMME peripheral recordings, in export order.
BIOPAC_LABELS: tuple[str, ...] = (
    "PPG, X, PPGED-R",
    "RSP, X, RSPEC-R",
    "EMG A, X, EMG2-R",
    "SKT A, X, SKT2-R",
    "EDA, X, PPGED-R",
    "ECG, X, RSPEC-R",
    "EMG B, X, EMG2-R",
    "SKT B, X, SKT2-R",
    *(f"Digital (STP Input {i})" for i in range(8)),
    "ECG rate (.5 - 35 Hz)",
)
#: Units of :data:`BIOPAC_LABELS`.
BIOPAC_UNITS: tuple[str, ...] = (
    "Volts", "Volts", "mV", "Deg C", "microsiemens", "mV", "mV", "Deg C",
    *("Volts",) * 8,
    "BPM",
)
#: Columns of the MMME coding file.
CODING_COLUMNS: tuple[str, ...] = (
    "Subject", "Filename", "Marker", "OnsetTime", "ApexTime", "OffsetTime", "OnsetFrame",
    "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion", "Macro/Micro", "Date", "dif",
)
FRAME_FORMATS = ("jpg", "tif", "png")


def write_frame(path: Path, frame_rgb: np.ndarray, fmt: str, jpeg_quality: int = 90) -> None:
    """Write one RGB uint8 frame (atomically) as jpg, tif or png."""
    if fmt not in FRAME_FORMATS:
        raise InputError(f"frame format {fmt!r} not one of {FRAME_FORMATS}")
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if fmt == "jpg" else []
    ok, buf = cv2.imencode(f".{fmt}", np.ascontiguousarray(frame_rgb[..., ::-1]), params)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise InputError(f"could not encode frame {path}", file=str(path))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buf.tobytes())
    os.replace(tmp, path)


def trigger_bits(codes: np.ndarray) -> np.ndarray:
    """Marker code per sample (0 = none) -> 8 digital channels in volts (0 / 5 V), (n, 8)."""
    codes = np.asarray(codes, np.int64)
    if codes.min(initial=0) < 0 or codes.max(initial=0) > 255:
        raise InputError("marker codes must lie in 0..255 to fit 8 trigger bits")
    return np.stack([((codes >> i) & 1) * 5.0 for i in range(8)], axis=1)


def _char_matrix(rows: Sequence[str]) -> np.ndarray:
    width = max(len(r) for r in rows)
    return np.array([r.ljust(width) for r in rows])


def write_biopac_mat(path: Path, channels: dict[str, np.ndarray], trigger_codes: np.ndarray,
                     ecg_rate: np.ndarray, sfreq: float) -> None:
    """Write a BIOPAC AcqKnowledge "Save as MATLAB" export with the 17 MMME channels.

    Parameters
    ----------
    channels : dict
        Analog channels keyed by the label's first field (``"PPG"``, ``"RSP"``, ``"EMG A"``,
        ``"SKT A"``, ``"EDA"``, ``"ECG"``, ``"EMG B"``, ``"SKT B"``).
    trigger_codes : np.ndarray
        Marker code per sample (0 between markers); spread over the 8 digital inputs.
    ecg_rate : np.ndarray
        Heart rate channel (BPM).
    sfreq : float
        Sampling rate (Hz).
    """
    import scipy.io

    cols = []
    for label in BIOPAC_LABELS[:8]:
        key = label.split(",")[0]
        if key not in channels:
            raise InputError(f"missing peripheral channel {key!r}", channel=key)
        cols.append(np.asarray(channels[key], float))
    data = np.column_stack([*cols, trigger_bits(trigger_codes), np.asarray(ecg_rate, float)])
    mdict = {
        "data": data,
        "labels": _char_matrix(BIOPAC_LABELS),
        "units": _char_matrix(BIOPAC_UNITS),
        "isi": np.array([[1000.0 / sfreq]]),
        "isi_units": "ms",
        "start_sample": np.array([[0]]),
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            scipy.io.savemat(fh, mdict, do_compression=True)


def write_eeg(path: Path, data_v: np.ndarray, ch_names: Sequence[str], ch_types: Sequence[str],
              sfreq: float, markers: Sequence[tuple[float, int]]) -> None:
    """Write the EEG as EDF (``.edf``) or EEGLAB (``.set``) with marker annotations.

    ``markers`` are (device time in s, code); each becomes an annotation whose description is
    the code (``"101"``). The format follows the file suffix.
    """
    import mne

    info = mne.create_info(list(ch_names), sfreq, list(ch_types), verbose=False)
    raw = mne.io.RawArray(data_v, info, verbose=False)
    if markers:
        on = np.array([m[0] for m in markers], float)
        raw.set_annotations(mne.Annotations(on, np.zeros(len(on)),
                                            [str(int(m[1])) for m in markers]))
    fmt = {".edf": "edf", ".set": "eeglab"}.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"EEG file must end in .edf or .set, got {path.name}", file=str(path))
    if fmt == "eeglab":
        # EEGLAB may write .set + .fdt: export into a private folder, then move each file in
        with tempfile.TemporaryDirectory(prefix=f".{path.stem}.", dir=path.parent) as tmp:
            tmpdir = Path(tmp)
            mne.export.export_raw(tmpdir / path.name, raw, fmt=fmt, overwrite=True,
                                  verbose=False)
            for f in tmpdir.iterdir():
                os.replace(f, path.parent / f.name)
        return
    with atomic_path(path) as tmp:
        target = tmp.with_suffix(".edf")
        mne.export.export_raw(target, raw, fmt=fmt, overwrite=True, verbose=False)
        os.replace(target, tmp)


def write_coding_file(path: Path, rows: Sequence[dict]) -> None:
    """Write ``coding_file.xlsx`` with the real columns (one sheet)."""
    df = pd.DataFrame(list(rows), columns=list(CODING_COLUMNS))
    with atomic_path(path) as tmp:
        target = tmp.with_suffix(".xlsx")
        df.to_excel(target, index=False, engine="openpyxl")
        os.replace(target, tmp)
