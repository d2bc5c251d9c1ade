"""EEG preprocessing with MNE: band-pass, notch, re-reference, EOG regression or ICA.

The defaults follow the MMME authors' feature pipeline: 0.5-48 Hz band-pass, 50 Hz notch,
average reference, and ocular artefacts removed by regressing HEO/VEO out of every EEG channel
(:class:`mne.preprocessing.EOGRegression`). ``eog="ica"`` removes them instead with
:class:`mne.preprocessing.ICA` (FastICA) and ``find_bads_eog`` on HEO/VEO.
"""

from __future__ import annotations

from collections.abc import Sequence

import mne
import numpy as np

from mmme._logging import logger
from mmme.errors import InputError


def preprocess_raw(
    raw: mne.io.BaseRaw,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 48.0,
    notch: float | Sequence[float] | None = 50.0,
    reference: str | Sequence[str] | None = "average",
    eog: str | None = "regression",
    resample_sfreq: float | None = None,
    ica_n_components: int | float = 20,
    ica_eog_channels: Sequence[str] = ("HEO", "VEO"),
    ica_threshold: float = 3.0,
    random_state: int = 97,
    copy: bool = True,
) -> mne.io.BaseRaw:
    """Filter, re-reference and clean ocular artefacts of an EEG recording.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Preloaded raw data with ``eeg`` channels (and ``eog`` channels for the regression).
    l_freq, h_freq : float | None
        Band-pass edges in Hz (applied to EEG and EOG channels alike so the regression sees the
        same band).
    notch : float | sequence of float | None
        Line-noise frequencies to notch out (those at or above Nyquist are skipped).
    reference : "average" | "mastoids" | list of str | None
        New EEG reference; ``"mastoids"`` means ``["M1", "M2"]``; ``None`` keeps the recording's.
    eog : "regression" | "ica" | None
        ``"regression"`` fits :class:`mne.preprocessing.EOGRegression` on the EOG channels and
        subtracts their contribution from every EEG channel; skipped (with a log line) when the
        recording has no EOG channel. ``"ica"`` fits a FastICA decomposition of the EEG channels
        (on a 1 Hz high-passed copy, as MNE recommends), marks the components that
        :meth:`mne.preprocessing.ICA.find_bads_eog` correlates with any of ``ica_eog_channels``
        and removes them from the EEG; the EOG channels themselves are left untouched.
    resample_sfreq : float | None
        Resample first (polyphase, anti-aliased) to this rate, e.g. 250 Hz, for speed.
    ica_n_components : int | float
        ICA components (``eog="ica"`` only): an int (20 is ample for 64 channels) or a float in
        (0, 1), the fraction of explained variance to keep.
    ica_eog_channels : sequence of str
        Channels the ICA components are correlated with (``eog="ica"`` only); all must exist.
    ica_threshold : float
        Adaptive z-score threshold of ``find_bads_eog`` (``eog="ica"`` only).
    random_state : int
        Seed of the ICA, so results are reproducible.
    copy : bool
        Work on a copy.

    Returns
    -------
    mne.io.BaseRaw
    """
    if not raw.preload:
        raw.load_data(verbose="error")
    raw = raw.copy() if copy else raw
    if len(mne.pick_types(raw.info, eeg=True, exclude=[])) == 0:
        raise InputError("recording has no EEG channel")
    if eog not in ("regression", "ica", None):
        raise InputError(f"eog must be 'regression', 'ica' or None, got {eog!r}")
    if eog == "ica":
        missing = [c for c in ica_eog_channels if c not in raw.ch_names]
        if missing or not ica_eog_channels:
            raise InputError(
                f"eog='ica' needs EOG channel(s) {missing or list(ica_eog_channels)}, not in the "
                "recording; pass ica_eog_channels=... or eog='regression'/None"
            )
    if resample_sfreq is not None and resample_sfreq < raw.info["sfreq"]:
        # first, so the long high-pass FIR runs at the low rate; polyphase resampling low-passes
        # below the new Nyquist itself
        raw.resample(resample_sfreq, method="polyphase", verbose="error")
    picks = mne.pick_types(raw.info, eeg=True, eog=True, exclude=[])
    if l_freq is not None or h_freq is not None:
        nyq = raw.info["sfreq"] / 2.0
        hf = h_freq if h_freq is None or h_freq < nyq else None
        raw.filter(l_freq, hf, picks=picks, verbose="error")
    if notch is not None:
        freqs = [f for f in np.atleast_1d(notch) if f < raw.info["sfreq"] / 2.0]
        if freqs:
            raw.notch_filter(freqs, picks=picks, verbose="error")
    if reference is not None:
        ref = ["M1", "M2"] if reference == "mastoids" else reference
        if isinstance(ref, list | tuple):
            missing = [c for c in ref if c not in raw.ch_names]
            if missing:
                raise InputError(f"reference channels {missing} not in the recording")
            ref = list(ref)
        raw.set_eeg_reference(ref, projection=False, verbose="error")
    if eog == "regression":
        eog_picks = mne.pick_types(raw.info, eog=True, exclude=[])
        if len(eog_picks) == 0:
            logger.info("no EOG channel: ocular artefact regression skipped")
        else:
            model = mne.preprocessing.EOGRegression(picks="eeg", picks_artifact="eog", proj=False)
            model.fit(raw)
            model.apply(raw, copy=False)
    elif eog == "ica":
        remove_eog_ica(
            raw,
            ica_eog_channels,
            n_components=ica_n_components,
            threshold=ica_threshold,
            random_state=random_state,
        )
    return raw


def remove_eog_ica(
    raw: mne.io.BaseRaw,
    eog_channels: Sequence[str] = ("HEO", "VEO"),
    *,
    n_components: int | float = 20,
    threshold: float = 3.0,
    random_state: int = 97,
) -> list[int]:
    """Remove ocular ICA components from the EEG channels of ``raw`` in place.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Preloaded, filtered raw data with ``eeg`` channels and the ``eog_channels``.
    eog_channels : sequence of str
        Channels (e.g. HEO, VEO) whose correlation with the sources flags ocular components.
    n_components : int | float
        Number of components, or the fraction of explained variance to keep.
    threshold : float
        Adaptive z-score threshold of :meth:`mne.preprocessing.ICA.find_bads_eog`.
    random_state : int
        Seed of FastICA.

    Returns
    -------
    list of int
        The excluded component indices (empty when none was found).
    """
    missing = [c for c in eog_channels if c not in raw.ch_names]
    if missing or not eog_channels:
        raise InputError(
            f"ICA artefact removal needs EOG channel(s) {missing or list(eog_channels)}, "
            "not in the recording"
        )
    n_eeg = len(mne.pick_types(raw.info, eeg=True, exclude="bads"))
    if isinstance(n_components, int) and not 1 <= n_components < n_eeg:
        # after an average reference the rank is n_eeg - 1
        raise InputError(f"ica n_components={n_components} must be in [1, {n_eeg - 1}]")
    # ICA is unstable with slow drifts: fit on a 1 Hz high-passed copy, apply to the original
    fit_raw = raw
    hp = raw.info["highpass"]
    if hp is None or hp < 1.0:
        picks = np.union1d(
            mne.pick_types(raw.info, eeg=True, exclude=[]),
            mne.pick_channels(raw.ch_names, list(eog_channels)),
        )
        fit_raw = raw.copy().filter(1.0, None, picks=picks, verbose="error")
    ica = mne.preprocessing.ICA(
        n_components=n_components,
        method="fastica",
        random_state=random_state,
        max_iter="auto",
        verbose="error",
    )
    ica.fit(fit_raw, picks="eeg", verbose="error")
    bads: set[int] = set()
    for ch in eog_channels:
        idx, _ = ica.find_bads_eog(fit_raw, ch_name=ch, threshold=threshold, verbose="error")
        bads.update(int(i) for i in idx)
    ica.exclude = sorted(bads)
    if not ica.exclude:
        logger.warning(f"ICA: no component correlates with {list(eog_channels)}; EEG unchanged")
        return []
    ica.apply(raw, verbose="error")
    logger.info(f"ICA: {ica.n_components_} components, excluded {ica.exclude} as ocular")
    return list(ica.exclude)
