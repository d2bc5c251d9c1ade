"""Similarity alignment of a face to a canonical crop.

The transform maps four stable anchors of the 68 landmarks (both eye centres, nose tip, mouth
centre) onto fixed positions in a ``size x size`` crop, by least squares over rotation, uniform
scale and translation (:func:`cv2.estimateAffinePartial2D`). The canonical positions leave room for
the forehead (rPPG) above the brows and put the chin near the bottom edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from mmme.errors import InputError

#: Canonical anchor positions as fractions of the crop side: subject's right eye centre (image
#: left), left eye centre, nose tip, mouth centre.
CANONICAL_ANCHORS = np.array(
    [[0.34, 0.37], [0.66, 0.37], [0.50, 0.552], [0.50, 0.652]], dtype=np.float32
)


def anchor_points(landmarks: np.ndarray) -> np.ndarray:
    """The four alignment anchors of 68 landmarks, shape ``(4, 2)``."""
    p = np.asarray(landmarks, dtype=np.float32)
    if p.shape != (68, 2):
        raise InputError(f"expected 68 landmarks of shape (68, 2), got {p.shape}")
    return np.stack(
        [p[36:42].mean(0), p[42:48].mean(0), p[30], 0.5 * (p[48] + p[54])]
    ).astype(np.float32)


def similarity_transform(landmarks: np.ndarray, size: int = 128) -> np.ndarray:
    """2x3 similarity matrix taking image coordinates to a ``size`` crop's coordinates.

    Parameters
    ----------
    landmarks : np.ndarray
        ``(68, 2)`` landmarks in image pixels.
    size : int
        Side of the square crop (128 for spotting, 256 for recognition is usual).

    Returns
    -------
    np.ndarray
        ``(2, 3)`` float64 matrix for :func:`cv2.warpAffine`.
    """
    src = anchor_points(landmarks)
    dst = CANONICAL_ANCHORS * float(size)
    if not np.all(np.isfinite(src)):
        raise InputError("landmarks contain NaN: no transform for a frame without a face")
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None:  # degenerate anchors (all equal); cannot happen with real landmarks
        raise InputError("cannot estimate a similarity transform from these landmarks")
    return m


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to ``(n, 2)`` points."""
    p = np.asarray(points, dtype=np.float64)
    return (p @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)


def warp_face(image: np.ndarray, matrix: np.ndarray, size: int = 128) -> np.ndarray:
    """Warp an image (gray or colour) into the ``size x size`` aligned crop."""
    return cv2.warpAffine(
        image, matrix, (int(size), int(size)), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def align_face(
    image: np.ndarray, landmarks: np.ndarray, size: int = 128
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Align and crop one face.

    Returns
    -------
    crop : np.ndarray
        The ``size x size`` crop (same channels as ``image``).
    crop_landmarks : np.ndarray
        The landmarks in crop coordinates, ``(68, 2)``.
    matrix : np.ndarray
        The 2x3 image-to-crop transform.
    """
    m = similarity_transform(landmarks, size)
    return warp_face(image, m, size), transform_points(landmarks, m), m


def nose_shift(reference: np.ndarray, moving: np.ndarray, box: tuple[int, int, int, int]) -> tuple[
    float, float
]:
    """Translation of ``moving`` against ``reference`` inside the nose box, by phase correlation.

    The nose region moves little with expressions, so its shift between onset and apex is the
    residual head motion left by landmark alignment; subtracting it is the usual onset->apex
    refinement (:func:`refine_to_reference`).

    Returns
    -------
    (dx, dy) : tuple of float
        Shift in pixels such that ``moving`` ~ ``reference`` translated by ``(dx, dy)``.
    """
    x0, y0, x1, y1 = box
    a = np.float32(_gray(reference)[y0:y1, x0:x1])
    b = np.float32(_gray(moving)[y0:y1, x0:x1])
    if a.size == 0 or a.shape != b.shape:
        raise InputError(f"empty or mismatched nose box {box}")
    win = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, win)
    return float(dx), float(dy)


def refine_to_reference(
    reference: np.ndarray, moving: np.ndarray, nose_box: tuple[int, int, int, int]
) -> np.ndarray:
    """Shift ``moving`` so its nose region lines up with ``reference`` (onset->apex alignment)."""
    dx, dy = nose_shift(reference, moving, nose_box)
    m = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])
    h, w = moving.shape[:2]
    return cv2.warpAffine(moving, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
