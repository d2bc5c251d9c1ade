"""EEG band power, differential entropy, frontal asymmetry and per-subject z-scoring.

Bands follow the MMME authors: delta 1-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-47 Hz.
Power spectra come from MNE's Welch estimator (:func:`mne.time_frequency.psd_array_welch`); band
power is the PSD integrated over ``[low, high)``; differential entropy of a band-limited Gaussian
signal is ``0.5 * log(2 * pi * e * band power)``. With the 62 scalp channels (no M1/M2) the
differential entropy gives the authors' 5 x 62 = 310 features.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import mne
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from mmme.errors import InputError

#: EEG bands (Hz), half-open ``[low, high)``.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 47.0),
}
#: Right/left electrode pairs for frontal asymmetry (Neuroscan spellings).
FRONTAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("FP2", "FP1"),
    ("AF4", "AF3"),
    ("F4", "F3"),
    ("F8", "F7"),
)


def _as_array(x: np.ndarray | mne.BaseEpochs) -> np.ndarray:
    if isinstance(x, mne.BaseEpochs):
        return x.get_data(picks="eeg", copy=False)
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers (n_epochs, n_channels, n_times): {exc}") from None
    if arr.ndim != 3:  # a 2-D table is not one epoch: say so rather than guess
        raise InputError(f"expected a 3-D array (n_epochs, n_channels, n_times), got shape "
                         f"{arr.shape}")
    if arr.shape[0] == 0:
        raise InputError("no epochs (0 samples)")
    return arr


def band_power(
    data: np.ndarray,
    sfreq: float,
    bands: Mapping[str, tuple[float, float]] | None = None,
    *,
    relative: bool = False,
    seg_s: float = 2.0,
) -> np.ndarray:
    """Power per band with MNE's Welch PSD.

    Parameters
    ----------
    data : numpy.ndarray
        ``(..., n_times)``; any leading shape (channels, epochs x channels).
    sfreq : float
        Sampling frequency in Hz.
    bands : mapping of name to (low, high) | None
        Defaults to :data:`BANDS`.
    relative : bool
        Divide by the sum over the bands so each channel's band powers sum to 1.
    seg_s : float
        Welch segment length in seconds (shortened to the data length; 50 % overlap).

    Returns
    -------
    numpy.ndarray
        ``(..., n_bands)`` in the data's unit squared (NaN where the input has NaN).
    """
    bands = dict(BANDS if bands is None else bands)
    x = np.asarray(data, dtype=float)
    n_times = x.shape[-1]
    n_per_seg = int(min(n_times, round(seg_s * sfreq)))
    if n_per_seg < 8:
        raise InputError(f"window of {n_times} samples is too short for band power")
    top = max(hi for _, hi in bands.values())
    if top > sfreq / 2:
        raise InputError(f"band edge {top} Hz is above Nyquist ({sfreq / 2} Hz)")
    psd, freqs = mne.time_frequency.psd_array_welch(
        x,
        sfreq,
        fmin=0.0,
        fmax=top,
        n_fft=n_per_seg,
        n_per_seg=n_per_seg,
        n_overlap=n_per_seg // 2,
        verbose="error",
    )
    df = freqs[1] - freqs[0] if freqs.size > 1 else sfreq / n_per_seg
    out = np.stack(
        [psd[..., (freqs >= lo) & (freqs < hi)].sum(-1) * df for lo, hi in bands.values()],
        axis=-1,
    )
    if relative:
        total = out.sum(-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(total > 0, out / total, np.nan)
    return out


def differential_entropy(power: np.ndarray) -> np.ndarray:
    """Differential entropy ``0.5 * log(2 pi e P)`` of band-limited Gaussian signals of power ``P``.

    Zero power (flat channel) gives NaN rather than ``-inf``.
    """
    p = np.asarray(power, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, 0.5 * np.log(2 * np.pi * np.e * p), np.nan)


def frontal_asymmetry(
    power: np.ndarray,
    ch_names: Sequence[str],
    *,
    pairs: Sequence[tuple[str, str]] = FRONTAL_PAIRS,
    band_index: int = 2,
) -> pd.DataFrame:
    """Frontal asymmetry ``ln(P_right) - ln(P_left)`` (alpha by default) per epoch and pair.

    Parameters
    ----------
    power : numpy.ndarray
        ``(n_epochs, n_channels, n_bands)`` absolute band power (from :func:`band_power`).
    ch_names : sequence of str
        Channel names of axis 1.
    pairs : sequence of (right, left)
        Pairs present in ``ch_names`` are used, others skipped.
    band_index : int
        Band along the last axis (2 = alpha in :data:`BANDS`).

    Returns
    -------
    pandas.DataFrame
        One column ``asym_<right>-<left>`` per available pair.
    """
    names = [c.upper() for c in ch_names]
    p = np.asarray(power, dtype=float)
    if p.ndim == 2:
        p = p[None]
    cols = {}
    for r, l_ in pairs:
        if r.upper() in names and l_.upper() in names:
            pr = p[:, names.index(r.upper()), band_index]
            pl = p[:, names.index(l_.upper()), band_index]
            with np.errstate(divide="ignore", invalid="ignore"):
                asym = np.log(pr) - np.log(pl)
            cols[f"asym_{r}-{l_}"] = np.where((pr > 0) & (pl > 0), asym, np.nan)
    return pd.DataFrame(cols)


class EEGBandFeatures(TransformerMixin, BaseEstimator):
    """Per-channel band power / differential entropy of EEG epochs (scikit-learn transformer).

    Parameters
    ----------
    sfreq : float
        Sampling frequency of the epochs.
    ch_names : sequence of str | None
        Channel names (for feature names); ``None`` uses ``ch0``, ``ch1`` ...
    bands : mapping | None
        Defaults to :data:`BANDS`.
    features : sequence of {"de", "power", "relpower"}
        Which features, in this order per channel x band. ``("de",)`` with 62 channels gives the
        authors' 310 features.
    seg_s : float
        Welch segment length in seconds.

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (axis 1 of the input, as MNE's transformers).
    n_channels_ : int
        The same.
    bands_ : dict
        The bands used.

    Notes
    -----
    ``transform`` takes ``(n_epochs, n_channels, n_times)`` arrays or :class:`mne.Epochs` (their EEG
    channels) and returns ``(n_epochs, n_channels * n_bands * n_features)``; nothing is learned.
    A 2-D array is an error (it is not one epoch); the scikit-learn tags declare 3-D input.

    Examples
    --------
    >>> est = EEGBandFeatures(sfreq=250.0, features=("de",))
    >>> est.fit_transform(np.random.default_rng(0).normal(size=(4, 2, 500))).shape
    (4, 10)
    """

    def __sklearn_tags__(self) -> Any:
        from mmme._sklearn import non_tabular_tags

        return non_tabular_tags(super().__sklearn_tags__(), ragged=False)

    def __init__(
        self,
        sfreq: float = 1000.0,
        ch_names: Sequence[str] | None = None,
        bands: Mapping[str, tuple[float, float]] | None = None,
        features: Sequence[str] = ("de",),
        seg_s: float = 2.0,
    ) -> None:
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.bands = bands
        self.features = features
        self.seg_s = seg_s

    def fit(self, X: np.ndarray | mne.BaseEpochs, y: object = None) -> EEGBandFeatures:
        """Check the input shape and feature list (nothing else is learned)."""
        arr = _as_array(X)
        bad = [f for f in self.features if f not in ("de", "power", "relpower")]
        if bad:
            raise InputError(f"unknown EEG features {bad}; expected de, power, relpower")
        if self.ch_names is not None and len(self.ch_names) != arr.shape[1]:
            raise InputError(
                f"{len(self.ch_names)} channel names for {arr.shape[1]} channels in the data"
            )
        self.n_channels_ = self.n_features_in_ = int(arr.shape[1])
        self.bands_ = dict(BANDS if self.bands is None else self.bands)
        return self

    def transform(self, X: np.ndarray | mne.BaseEpochs) -> np.ndarray:
        """Band features of every epoch, ``(n_epochs, n_channels * n_bands * n_features)``."""
        check_is_fitted(self, "n_channels_")
        arr = _as_array(X)
        if arr.shape[1] != self.n_channels_:
            raise InputError(f"fitted on {self.n_channels_} channels, got {arr.shape[1]}")
        sfreq = X.info["sfreq"] if isinstance(X, mne.BaseEpochs) else self.sfreq
        power = band_power(arr, sfreq, self.bands_, seg_s=self.seg_s)  # (e, c, b)
        blocks = []
        for f in self.features:
            if f == "de":
                blocks.append(differential_entropy(power))
            elif f == "power":
                blocks.append(power)
            else:
                total = power.sum(-1, keepdims=True)
                with np.errstate(invalid="ignore", divide="ignore"):
                    blocks.append(np.where(total > 0, power / total, np.nan))
        # (e, c, b, f) -> channel-major feature order
        out = np.stack(blocks, axis=-1)
        return out.reshape(out.shape[0], -1)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "n_channels_")
        chs = list(self.ch_names) if self.ch_names is not None else [
            f"ch{i}" for i in range(self.n_channels_)
        ]
        return np.asarray(
            [f"{c}_{b}_{f}" for c in chs for b in self.bands_ for f in self.features],
            dtype=object,
        )


class SubjectZScore(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Z-score features within each subject (group), as the MMME EEG features are normalised.

    Parameters
    ----------
    unseen : {"self", "global", "error"}
        Subjects not seen in ``fit``: ``"self"`` standardises them with their own statistics
        (label-free, as leave-one-subject-out evaluation expects), ``"global"`` uses the pooled
        training statistics, ``"error"`` raises.
    eps : float
        Floor for the standard deviation (constant features become 0, not inf).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Their names, when ``X`` was a DataFrame with string column names.
    groups_ : ndarray
        The subjects seen in ``fit``.
    mean_, scale_ : ndarray, shape (n_groups, n_features)
        Each subject's means and standard deviations (NaN ignored).

    Notes
    -----
    Pass the subject of every row as ``groups`` to ``fit``, ``transform`` and ``fit_transform``.
    Fitted without ``groups`` all rows form one group (a plain standard scaler) and a warning
    says so; fitted on several groups, ``transform`` without ``groups`` raises, rather than
    guess which subject a row belongs to.

    Inside a :class:`~sklearn.pipeline.Pipeline` (e.g. in ``cross_val_score``) the groups only
    arrive through scikit-learn's metadata routing::

        sklearn.set_config(enable_metadata_routing=True)
        z = SubjectZScore().set_fit_request(groups=True).set_transform_request(groups=True)
        pipe = make_pipeline(z, SVC())
        cross_val_score(pipe, X, y, cv=LeaveOneGroupOut(), params={"groups": groups})

    ``params`` sends each fold's training groups to ``fit`` and its test groups to
    ``transform`` when the pipeline predicts (and to ``LeaveOneGroupOut``); with routing on,
    ``groups=`` of ``cross_val_score`` itself is refused by scikit-learn.

    Examples
    --------
    >>> X = np.array([[1.0], [3.0], [10.0], [14.0]])
    >>> SubjectZScore().fit_transform(X, groups=["a", "a", "b", "b"]).ravel()
    array([-1.,  1., -1.,  1.])
    """

    def __init__(self, unseen: str = "self", eps: float = 1e-12) -> None:
        self.unseen = unseen
        self.eps = eps

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    @staticmethod
    def _groups(X: np.ndarray, groups: object) -> np.ndarray:
        if groups is None:
            return np.zeros(len(X), dtype=object)
        g = np.asarray(groups, dtype=object)
        if g.shape != (len(X),):
            raise InputError(f"groups has shape {g.shape}, expected ({len(X)},)")
        return g

    def _stats(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings():  # an all-NaN column of one subject stays NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(X, axis=0)
            std = np.nanstd(X, axis=0)
        return mean, np.maximum(np.nan_to_num(std, nan=0.0), self.eps)

    def fit(self, X: Any, y: object = None, groups: object = None) -> SubjectZScore:
        """Learn each subject's feature means and standard deviations."""
        if self.unseen not in ("self", "global", "error"):
            raise InputError(f"unseen must be 'self', 'global' or 'error', got {self.unseen!r}")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        if groups is None:
            warnings.warn(
                "SubjectZScore fitted without groups: all rows are one subject (a plain "
                "standard scaler); pass groups, in a pipeline through metadata routing",
                UserWarning, stacklevel=2,
            )
        g = self._groups(X, groups)
        self.groups_ = np.asarray(sorted(set(g.tolist()), key=str), dtype=object)
        stats = [self._stats(X[g == k]) for k in self.groups_]
        self.mean_ = np.stack([s[0] for s in stats])
        self.scale_ = np.stack([s[1] for s in stats])
        self.global_mean_, self.global_scale_ = self._stats(X)
        self._fitted_without_groups = groups is None
        return self

    def transform(self, X: Any, groups: object = None) -> np.ndarray:
        """Standardise each row with its subject's statistics."""
        check_is_fitted(self, "mean_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if groups is None and len(self.groups_) > 1:
            raise InputError(
                f"fitted on {len(self.groups_)} subjects, transform needs groups to know whose "
                "statistics apply (in a pipeline: set_transform_request(groups=True))"
            )
        if groups is None:
            g = np.full(len(X), self.groups_[0], dtype=object)
        else:
            g = self._groups(X, groups)
        out = np.empty_like(X)
        known = {k: i for i, k in enumerate(self.groups_.tolist())}
        for k in set(g.tolist()):
            rows = g == k
            if k in known:
                m, s = self.mean_[known[k]], self.scale_[known[k]]
            elif self.unseen == "self":
                m, s = self._stats(X[rows])
            elif self.unseen == "global":
                m, s = self.global_mean_, self.global_scale_
            else:
                raise InputError(f"subject {k!r} was not seen in fit")
            out[rows] = (X[rows] - m) / s
        return out

    def fit_transform(
        self, X: Any, y: object = None, groups: object = None, **fit_params: object
    ) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`, the same ``groups`` to both."""
        return self.fit(X, y, groups=groups).transform(X, groups=groups)
