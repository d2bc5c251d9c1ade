"""Peripheral physiology with NeuroKit2: processing, quality, event-locked and streamed features."""

from mmme.data.quality import QualityReport, SignalQualityWarning, check_signal
from mmme.physio.events import (
    DEFAULT_WINDOWS,
    event_features,
    event_features_wide,
    event_table,
    sliding_features,
)
from mmme.physio.peripheral import (
    CHANNEL_KINDS,
    FEATURES,
    KINDS,
    ProcessedSignal,
    hr_slope,
    hr_slope_at,
    hr_slope_filter,
    hrv_features,
    longest_breath_interval,
    process_signal,
    summarize_signal,
    window_features,
)
from mmme.physio.stream import StreamResult, iter_array_chunks, stream_features

__all__ = [
    "CHANNEL_KINDS",
    "DEFAULT_WINDOWS",
    "FEATURES",
    "KINDS",
    "ProcessedSignal",
    "QualityReport",
    "SignalQualityWarning",
    "StreamResult",
    "check_signal",
    "event_features",
    "event_features_wide",
    "event_table",
    "hr_slope",
    "hr_slope_at",
    "hr_slope_filter",
    "hrv_features",
    "iter_array_chunks",
    "longest_breath_interval",
    "process_signal",
    "sliding_features",
    "stream_features",
    "summarize_signal",
    "window_features",
]
