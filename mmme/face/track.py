"""Track one face through a video: detect once, follow with landmarks, re-detect on doubt.

The tracker detects on the first frame that has a face, then places landmarks each frame in the
previous box moved with the landmarks. A cheap appearance check (normalised cross-correlation of
the face patch against the patch at detection) triggers a re-detection near the last position;
when that fails, or the landmarks leave the image, the frame is *lost*: the face status is data,
not an exception, and the next frames search the whole image again.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mmme.face.detect import FaceBackend, get_backend, to_gray

DETECTED, TRACKED, LOST = "detected", "tracked", "lost"


@dataclass
class FrameFace:
    """The tracker's answer for one frame.

    Attributes
    ----------
    status : str
        ``"detected"`` (detector ran and found the face), ``"tracked"`` or ``"lost"``.
    landmarks : np.ndarray | None
        ``(68, 2)`` float32 image coordinates, ``None`` when lost.
    box : np.ndarray | None
        ``(x0, y0, x1, y1)`` box the landmarks were placed in.
    similarity : float
        Correlation of the face patch with the patch at the last detection (NaN when lost).
    """

    status: str
    landmarks: np.ndarray | None = None
    box: np.ndarray | None = None
    similarity: float = float("nan")

    @property
    def face(self) -> bool:
        return self.status != LOST


class FaceTracker:
    """Follow the largest face of a video frame by frame.

    Parameters
    ----------
    backend : str | FaceBackend
        Detector/landmark backend (see :func:`mmme.face.detect.get_backend`).
    min_similarity : float
        Below this correlation with the patch at detection, re-detect (occlusion, pose change).
    redetect_every : int
        Also re-detect every so many frames (0: only on doubt).
    search_scale : float
        Re-detection searches a window this many times the face box around the last position.
    min_inside : float
        Fraction of landmarks that must lie inside the image; fewer means the face left the frame.
    patch_size : int
        Side of the patch used for the appearance check.
    """

    def __init__(
        self,
        backend: str | FaceBackend = "auto",
        min_similarity: float = 0.6,
        redetect_every: int = 0,
        search_scale: float = 2.0,
        min_inside: float = 0.9,
        patch_size: int = 40,
    ) -> None:
        self.backend = backend
        self.min_similarity = min_similarity
        self.redetect_every = redetect_every
        self.search_scale = search_scale
        self.min_inside = min_inside
        self.patch_size = patch_size
        self._be = get_backend(backend)
        self.reset()

    def reset(self) -> None:
        """Forget the face (the next frame searches the whole image)."""
        self._box: np.ndarray | None = None
        self._template: np.ndarray | None = None
        self._centroid = np.zeros(2)
        self._since_detect = 0

    def _patch(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = box
        s = self.patch_size
        m = np.array([[s / max(x1 - x0, 1e-6), 0, -x0 * s / max(x1 - x0, 1e-6)],
                      [0, s / max(y1 - y0, 1e-6), -y0 * s / max(y1 - y0, 1e-6)]])
        return cv2.warpAffine(gray, m, (s, s), flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _similarity(self, gray: np.ndarray, box: np.ndarray) -> float:
        p = self._patch(gray, box)
        if self._template is None or p.std() < 1e-3 or self._template.std() < 1e-3:
            return 0.0
        return float(cv2.matchTemplate(p, self._template, cv2.TM_CCOEFF_NORMED)[0, 0])

    def _inside(self, lm: np.ndarray, shape: tuple[int, int]) -> bool:
        h, w = shape
        ok = (lm[:, 0] >= 0) & (lm[:, 0] < w) & (lm[:, 1] >= 0) & (lm[:, 1] < h)
        return bool(ok.mean() >= self.min_inside)

    def _detect(self, gray: np.ndarray, near: np.ndarray | None) -> np.ndarray | None:
        if near is None:
            boxes = self._be.detect(gray)
            return boxes[0] if len(boxes) else None
        x0, y0, x1, y1 = near
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, self.search_scale * max(x1 - x0, y1 - y0) / 2
        h, w = gray.shape
        sx0, sy0 = int(max(cx - half, 0)), int(max(cy - half, 0))
        sx1, sy1 = int(min(cx + half, w)), int(min(cy + half, h))
        if sx1 - sx0 < 24 or sy1 - sy0 < 24:
            return None
        boxes = self._be.detect(gray[sy0:sy1, sx0:sx1])
        if not len(boxes):
            return None
        boxes = boxes + [sx0, sy0, sx0, sy0]
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        return boxes[np.argmin(np.linalg.norm(centres - [cx, cy], axis=1))]

    def _accept(self, gray: np.ndarray, box: np.ndarray) -> FrameFace:
        lm = self._be.landmarks(gray, box)
        if not self._inside(lm, gray.shape):
            self.reset()
            return FrameFace(LOST)
        self._box = np.asarray(box, dtype=np.float64)
        self._template = self._patch(gray, self._box)
        self._centroid = lm.mean(0)
        self._since_detect = 0
        return FrameFace(DETECTED, lm, self._box.copy(), 1.0)

    def update(self, frame: np.ndarray) -> FrameFace:
        """Process the next frame (BGR or gray) and return its face status and landmarks."""
        gray = to_gray(frame)
        if self._box is None:
            box = self._detect(gray, None)
            return FrameFace(LOST) if box is None else self._accept(gray, box)
        lm = self._be.landmarks(gray, self._box)
        # Move the box with the landmarks (keeps the predictor's box convention); when it moved
        # by more than a pixel or two, place the landmarks again in the moved box.
        shift = lm.mean(0) - self._centroid
        box = self._box + np.r_[shift, shift]
        if np.abs(shift).max() > 2:
            lm = self._be.landmarks(gray, box)
        sim = self._similarity(gray, box)
        self._since_detect += 1
        due = self.redetect_every > 0 and self._since_detect >= self.redetect_every
        if sim < self.min_similarity or due or not self._inside(lm, gray.shape):
            found = self._detect(gray, box)
            if found is None:
                self.reset()
                return FrameFace(LOST)
            return self._accept(gray, found)
        self._box, self._centroid = box, lm.mean(0)
        return FrameFace(TRACKED, lm, box.copy(), sim)
