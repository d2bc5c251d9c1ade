"""BIOPAC AcqKnowledge ``.acq`` files through ``bioread``, in the layout of the MATLAB export.

:func:`read_biopac_acq` returns what :func:`mmme.io.mmme.read_biopac_mat` returns, so the MMME
importer treats both the same: channels at a lower rate than the file's (AcqKnowledge frequency
dividers) are brought to the file's rate by bioread's nearest-neighbour upsampling, and channels
are cut to the shortest one when a recording stopped in the middle of a block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mmme.errors import InputError


def read_biopac_acq(path: str | Path) -> dict[str, Any]:
    """Read an AcqKnowledge file.

    Returns
    -------
    dict
        ``data`` (n_samples x n_ch float), ``labels`` (channel names as AcqKnowledge shows them),
        ``names`` (first comma field), ``units``, ``sfreq`` (the file's base rate).

    Raises
    ------
    InputError
        Naming the file (and channel) when bioread cannot read it or a channel is empty.
    """
    import bioread

    path = Path(path)
    try:
        acq = bioread.read_file(str(path))
    except Exception as exc:  # bioread raises many types for damaged files
        raise InputError(f"cannot read AcqKnowledge file: {exc}", file=str(path)) from exc
    chans = list(acq.channels)
    if not chans:
        raise InputError("AcqKnowledge file has no channels", file=str(path))
    cols = []
    for ch in chans:
        if ch.data is None or len(ch.data) == 0:
            raise InputError("channel holds no samples", file=str(path), channel=str(ch.name))
        cols.append(np.asarray(ch.upsampled_data, dtype=np.float64))
    n = min(len(c) for c in cols)
    labels = [str(ch.name).strip() for ch in chans]
    return {
        "data": np.column_stack([c[:n] for c in cols]),
        "labels": labels,
        "names": [lab.split(",")[0].strip() for lab in labels],
        "units": [str(ch.units or "").strip() for ch in chans],
        "sfreq": float(acq.samples_per_second),
    }
