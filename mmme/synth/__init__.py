"""Synthetic multimodal micro-expression recordings with exact ground truth."""
