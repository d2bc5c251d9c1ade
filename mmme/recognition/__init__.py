"""Expression recognition: metrics exactly as MEGC2019 (UF1, UAR pooled over folds)."""

from mmme.recognition.metrics import (
    bootstrap_ci,
    confusion,
    per_subject_scores,
    recognition_scores,
    score_prediction_files,
)

__all__ = [
    "bootstrap_ci",
    "confusion",
    "per_subject_scores",
    "recognition_scores",
    "score_prediction_files",
]
