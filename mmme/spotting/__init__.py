"""Expression spotting in long videos: evaluation by the MEGC protocol."""

from mmme.spotting.evaluate import SpottingResult, interval_iou, score_spotting, strs

__all__ = ["SpottingResult", "interval_iou", "score_spotting", "strs"]
