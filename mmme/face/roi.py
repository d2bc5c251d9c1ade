"""Named regions of interest from 68 landmarks.

Motion ROIs (``MOTION_ROIS``) follow the action units that micro-expressions use: brows (AU1/2/4),
eye surroundings (AU6/7, with the eye itself masked so blinks do not count), nose (AU9), mouth
corners (AU12/14/15) and chin (AU17). Skin ROIs (``SKIN_ROIS``: cheeks and forehead) carry the
blood-volume signal for rPPG. Sides are the subject's (FACS): ``brow_left`` is on the image's right.

Sizes scale with the inter-ocular distance ``d`` (between eye centres), so the same definitions
work on a raw frame and on an aligned crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mmme.errors import InputError

MOTION_ROIS: tuple[str, ...] = (
    "brow_left", "brow_right", "eye_left", "eye_right", "nose", "mouth_left", "mouth_right", "chin",
)
SKIN_ROIS: tuple[str, ...] = ("cheek_left", "cheek_right", "forehead")
ALL_ROIS: tuple[str, ...] = MOTION_ROIS + SKIN_ROIS

# 68-point index groups (iBUG); subject's right = image left.
_RIGHT_BROW = slice(17, 22)
_LEFT_BROW = slice(22, 27)
_RIGHT_EYE = slice(36, 42)
_LEFT_EYE = slice(42, 48)


@dataclass(frozen=True)
class Roi:
    """A named box with an optional pixel mask inside it.

    Attributes
    ----------
    name : str
    box : tuple of int
        ``(x0, y0, x1, y1)``, half-open, clipped to the image.
    mask : np.ndarray | None
        Boolean ``(y1 - y0, x1 - x0)`` array of pixels that count, ``None`` for the full box.
    """

    name: str
    box: tuple[int, int, int, int]
    mask: np.ndarray | None = None

    @property
    def empty(self) -> bool:
        x0, y0, x1, y1 = self.box
        return x1 <= x0 or y1 <= y0 or (self.mask is not None and not self.mask.any())

    def take(self, image: np.ndarray) -> np.ndarray:
        """Pixels of ``image`` in the ROI, shape ``(n_pixels, ...)`` (masked pixels only)."""
        x0, y0, x1, y1 = self.box
        patch = image[y0:y1, x0:x1]
        if self.mask is None:
            return patch.reshape(-1, *patch.shape[2:])
        return patch[self.mask]

    @property
    def n_pixels(self) -> int:
        """Number of pixels that count."""
        if self.empty:
            return 0
        x0, y0, x1, y1 = self.box
        return int(self.mask.sum()) if self.mask is not None else (x1 - x0) * (y1 - y0)

    def mean(self, image: np.ndarray) -> np.ndarray:
        """Mean of ``image`` over the ROI, per channel (up to 4), NaN when empty.

        The same as ``take(image).mean(axis=0)``, without copying the pixels (``cv2.mean``).
        """
        n_ch = image.shape[2] if image.ndim == 3 else 1
        if self.empty:
            return np.full(n_ch, np.nan)
        x0, y0, x1, y1 = self.box
        patch = image[y0:y1, x0:x1]
        mask = None if self.mask is None else self.mask.view(np.uint8)
        return np.array(cv2.mean(patch, mask)[:n_ch])

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each ``(x, y)`` point lies inside the box (mask ignored)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        x0, y0, x1, y1 = self.box
        return (p[:, 0] >= x0) & (p[:, 0] < x1) & (p[:, 1] >= y0) & (p[:, 1] < y1)


def _box(x0: float, y0: float, x1: float, y1: float, shape: tuple[int, int]) -> tuple[
    int, int, int, int
]:
    h, w = shape
    xa, xb = int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.ceil(x1), 0, w))
    ya, yb = int(np.clip(np.floor(y0), 0, h)), int(np.clip(np.ceil(y1), 0, h))
    return xa, ya, xb, yb


def _eye_mask(box: tuple[int, int, int, int], eye: np.ndarray, d: float) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.ones((y1 - y0, x1 - x0), np.uint8)
    poly = np.round(eye - [x0, y0]).astype(np.int32)
    hull = cv2.convexHull(poly)
    cv2.fillConvexPoly(mask, hull, 0)
    # Lids move with a blink beyond the landmark polygon: grow the masked area a little.
    k = max(1, int(round(0.08 * d)))
    mask = cv2.erode(mask, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    return mask.astype(bool)


def face_rois(
    landmarks: np.ndarray,
    shape: tuple[int, ...],
    names: tuple[str, ...] | list[str] | None = None,
    mask_eyes: bool = True,
) -> dict[str, Roi]:
    """Named ROIs of one face.

    Parameters
    ----------
    landmarks : np.ndarray
        ``(68, 2)`` landmarks (image or crop coordinates).
    shape : tuple of int
        Shape of the image the ROIs index (only the first two entries are used).
    names : sequence of str | None
        ROIs to build, from :data:`ALL_ROIS`; all by default.
    mask_eyes : bool
        Mask the eye itself out of ``eye_left``/``eye_right`` (motion there is blinks).

    Returns
    -------
    dict of str to Roi
    """
    p = np.asarray(landmarks, dtype=np.float64)
    if p.shape != (68, 2) or not np.all(np.isfinite(p)):
        raise InputError(f"expected finite (68, 2) landmarks, got shape {p.shape}")
    names = tuple(ALL_ROIS if names is None else names)
    unknown = set(names) - set(ALL_ROIS)
    if unknown:
        raise InputError(f"unknown ROI name(s) {sorted(unknown)}; known: {list(ALL_ROIS)}")
    hw = (int(shape[0]), int(shape[1]))
    r_eye, l_eye = p[_RIGHT_EYE], p[_LEFT_EYE]
    d = float(np.linalg.norm(l_eye.mean(0) - r_eye.mean(0)))
    if d < 2:
        raise InputError(f"degenerate landmarks (inter-ocular distance {d:.2f} px)")
    out: dict[str, Roi] = {}

    def brow(pts: np.ndarray) -> tuple[int, int, int, int]:
        return _box(pts[:, 0].min() - 0.08 * d, pts[:, 1].min() - 0.22 * d,
                    pts[:, 0].max() + 0.08 * d, pts[:, 1].max() + 0.12 * d, hw)

    def eye(pts: np.ndarray) -> tuple[int, int, int, int]:
        return _box(pts[:, 0].min() - 0.15 * d, pts[:, 1].min() - 0.12 * d,
                    pts[:, 0].max() + 0.15 * d, pts[:, 1].max() + 0.22 * d, hw)

    def corner(pt: np.ndarray) -> tuple[int, int, int, int]:
        return _box(pt[0] - 0.22 * d, pt[1] - 0.2 * d, pt[0] + 0.22 * d, pt[1] + 0.2 * d, hw)

    def cheek(eye_pts: np.ndarray) -> tuple[int, int, int, int]:
        top = eye_pts[:, 1].max() + 0.25 * d
        bottom = max(p[33, 1], top + 0.2 * d)
        return _box(eye_pts[:, 0].min(), top, eye_pts[:, 0].max(), bottom, hw)

    builders = {
        "brow_left": lambda: Roi("brow_left", brow(p[_LEFT_BROW])),
        "brow_right": lambda: Roi("brow_right", brow(p[_RIGHT_BROW])),
        "eye_left": lambda: _eye_roi("eye_left", eye(l_eye), l_eye, d, mask_eyes),
        "eye_right": lambda: _eye_roi("eye_right", eye(r_eye), r_eye, d, mask_eyes),
        "nose": lambda: Roi("nose", _box(p[31, 0] - 0.05 * d, p[27, 1],
                                         p[35, 0] + 0.05 * d, p[33, 1] + 0.05 * d, hw)),
        "mouth_left": lambda: Roi("mouth_left", corner(p[54])),
        "mouth_right": lambda: Roi("mouth_right", corner(p[48])),
        "chin": lambda: Roi("chin", _box(p[7, 0], p[57, 1] + 0.1 * d, p[9, 0],
                                         max(p[8, 1] - 0.05 * d, p[57, 1] + 0.25 * d), hw)),
        "cheek_left": lambda: Roi("cheek_left", cheek(l_eye)),
        "cheek_right": lambda: Roi("cheek_right", cheek(r_eye)),
        "forehead": lambda: Roi("forehead", _box(
            p[19, 0], p[17:27, 1].min() - 0.6 * d, p[24, 0], p[17:27, 1].min() - 0.15 * d, hw)),
    }
    for n in names:
        out[n] = builders[n]()
    return out


def _eye_roi(name: str, box: tuple[int, int, int, int], eye: np.ndarray, d: float,
             mask_eyes: bool) -> Roi:
    if not mask_eyes or box[2] <= box[0] or box[3] <= box[1]:
        return Roi(name, box)
    return Roi(name, box, _eye_mask(box, eye, d))


def grid_rois(shape: tuple[int, ...], grid: tuple[int, int] = (5, 5)) -> dict[str, Roi]:
    """A regular ``rows x cols`` grid of block ROIs named ``"r{i}c{j}"`` over an image."""
    h, w = int(shape[0]), int(shape[1])
    rows, cols = grid
    ys = np.linspace(0, h, rows + 1).round().astype(int)
    xs = np.linspace(0, w, cols + 1).round().astype(int)
    return {
        f"r{i}c{j}": Roi(f"r{i}c{j}", (int(xs[j]), int(ys[i]), int(xs[j + 1]), int(ys[i + 1])))
        for i in range(rows) for j in range(cols)
    }


def roi_means(image: np.ndarray, rois: dict[str, Roi]) -> dict[str, np.ndarray]:
    """Mean value of ``image`` (last axis = channels if 3-D) in each ROI; NaN for empty ROIs."""
    out = {}
    for name, roi in rois.items():
        px = roi.take(image)
        out[name] = (np.asarray(px, dtype=np.float64).mean(axis=0) if len(px)
                     else np.full(image.shape[2:], np.nan))
    return out
