"""EEG with MNE: Neuroscan montage, preprocessing, band power and differential entropy.

Epochs come from mmme's one cutter, :meth:`mmme.data.Session.epochs`.
"""

from mmme.eeg.channels import (
    MASTOIDS,
    NEUROSCAN_62,
    NEUROSCAN_64,
    channel_type,
    make_montage,
    make_raw,
    standard_name,
)
from mmme.eeg.features import (
    BANDS,
    FRONTAL_PAIRS,
    EEGBandFeatures,
    SubjectZScore,
    band_power,
    differential_entropy,
    frontal_asymmetry,
)
from mmme.eeg.preprocess import preprocess_raw, remove_eog_ica
from mmme.eeg.summary import summarize_eeg

__all__ = [
    "BANDS",
    "FRONTAL_PAIRS",
    "MASTOIDS",
    "NEUROSCAN_62",
    "NEUROSCAN_64",
    "EEGBandFeatures",
    "SubjectZScore",
    "band_power",
    "channel_type",
    "differential_entropy",
    "frontal_asymmetry",
    "make_montage",
    "make_raw",
    "preprocess_raw",
    "remove_eog_ica",
    "standard_name",
    "summarize_eeg",
]
