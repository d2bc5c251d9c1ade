"""Face detection and 68-point landmarks behind one small backend interface.

Backends find face boxes; every backend places the 68 landmarks with dlib's shape predictor
(``shape_predictor_68_face_landmarks.dat`` from the ``face-recognition-models`` wheel, so nothing is
downloaded). That model was trained on the iBUG 300-W data, whose licence excludes commercial use.

Landmark indices follow the iBUG 68-point scheme. "Left" and "right" in mmme are the *subject's*
sides (FACS convention): the subject's right eye is points 36-41, on the image's left.

Boxes are ``(x0, y0, x1, y1)`` float arrays in pixel coordinates of the image given.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from mmme.errors import InputError

N_LANDMARKS = 68
LANDMARK_MODEL = "shape_predictor_68_face_landmarks.dat"


def landmark_model_path() -> Path:
    """The 68-point landmark model shipped inside the face-recognition-models wheel.

    Found without importing the package, whose ``__init__`` needs setuptools'
    deprecated ``pkg_resources``.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the face-recognition-models package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / LANDMARK_MODEL
    if not path.is_file():
        raise InputError("landmark model missing from face-recognition-models", file=str(path))
    return path


@functools.lru_cache(maxsize=1)
def _shape_predictor():  # noqa: ANN202 - dlib type
    import dlib

    return dlib.shape_predictor(str(landmark_model_path()))


@functools.lru_cache(maxsize=1)
def _hog_detector():  # noqa: ANN202 - dlib type
    import dlib

    return dlib.get_frontal_face_detector()


def dlib_models() -> tuple[object, object]:
    """dlib's HOG face detector and 68-point shape predictor, loaded once per process."""
    return _hog_detector(), _shape_predictor()


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return an 8-bit single-channel view of a BGR/gray image (uint16/float scaled to 0..255).

    Raises
    ------
    InputError
        If the array is not a 2-D gray or 3-D colour image.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        img = cv2.cvtColor(img[..., :3] if img.dtype == np.uint8 else _to_u8(img[..., :3]),
                           cv2.COLOR_BGR2GRAY)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    elif img.ndim != 2:
        raise InputError(f"expected a gray or BGR image, got an array of shape {img.shape}")
    return img if img.dtype == np.uint8 else _to_u8(img)


def _to_u8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        scale = 255.0 if np.nanmax(img) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(img) * scale, 0, 255).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8)


@runtime_checkable
class FaceBackend(Protocol):
    """What a face backend provides: boxes and 68 landmarks on an 8-bit gray image."""

    name: str

    def detect(self, gray: np.ndarray) -> np.ndarray:
        """Face boxes, shape ``(n_faces, 4)``, largest first."""
        ...

    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The 68 landmarks inside ``box``, shape ``(68, 2)`` float32 (x, y)."""
        ...


class _DlibLandmarks:
    """Shared landmark step: dlib's 68-point shape predictor on a box."""

    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        import dlib

        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        shape = _shape_predictor()(np.ascontiguousarray(gray), dlib.rectangle(x0, y0, x1, y1))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


def _downscaled(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    side = max(gray.shape)
    if max_side <= 0 or side <= max_side:
        return gray, 1.0
    scale = max_side / side
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return small, scale


def _largest_first(boxes: np.ndarray) -> np.ndarray:
    if len(boxes) == 0:
        return np.zeros((0, 4), dtype=np.float64)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[np.argsort(-area, kind="stable")]


class DlibBackend(_DlibLandmarks):
    """dlib HOG frontal face detector + 68-point shape predictor.

    Parameters
    ----------
    upsample : int
        Times dlib upsamples the image before detection (finds smaller faces, slower).
    max_side : int
        Images are downscaled so their longer side is at most this before detection (0: never).
    """

    name = "dlib"

    def __init__(self, upsample: int = 0, max_side: int = 320) -> None:
        self.upsample = upsample
        self.max_side = max_side

    def detect(self, gray: np.ndarray) -> np.ndarray:
        small, scale = _downscaled(gray, self.max_side)
        rects = _hog_detector()(np.ascontiguousarray(small), self.upsample)
        boxes = np.array(
            [[r.left(), r.top(), r.right(), r.bottom()] for r in rects], dtype=np.float64
        ).reshape(-1, 4)
        return _largest_first(boxes / scale)


class HaarBackend(_DlibLandmarks):
    """OpenCV Haar cascade detector (ships with OpenCV) + dlib's 68-point shape predictor.

    Haar boxes sit higher and are larger than the dlib boxes the shape predictor was trained on;
    they are mapped to the dlib convention before landmarks are placed.

    Parameters
    ----------
    cascade : str
        File name in ``cv2.data.haarcascades``.
    scale_factor, min_neighbors : float, int
        Passed to :meth:`cv2.CascadeClassifier.detectMultiScale`.
    max_side : int
        Images are downscaled so their longer side is at most this before detection (0: never).
    """

    name = "haar"

    def __init__(
        self,
        cascade: str = "haarcascade_frontalface_default.xml",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        max_side: int = 320,
    ) -> None:
        self.cascade = cascade
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side = max_side
        path = cv2.data.haarcascades + cascade
        self._clf = cv2.CascadeClassifier(path)
        if self._clf.empty():
            raise InputError("cannot load the Haar cascade", file=path)

    def detect(self, gray: np.ndarray) -> np.ndarray:
        small, scale = _downscaled(gray, self.max_side)
        found = self._clf.detectMultiScale(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(24, 24),
        )
        if len(found) == 0:
            return np.zeros((0, 4), dtype=np.float64)
        xywh = np.asarray(found, dtype=np.float64) / scale
        # Haar -> dlib box convention (measured on frontal faces: shifted down, ~8 % smaller).
        x = xywh[:, 0] + 0.04 * xywh[:, 2]
        y = xywh[:, 1] + 0.17 * xywh[:, 3]
        w = 0.92 * xywh[:, 2]
        h = 0.92 * xywh[:, 3]
        return _largest_first(np.stack([x, y, x + w, y + h], axis=1))


class AutoBackend(_DlibLandmarks):
    """dlib's HOG detector, with the Haar cascade as fallback when dlib finds no face."""

    name = "auto"

    def __init__(self, max_side: int = 320) -> None:
        self.max_side = max_side
        self._dlib = DlibBackend(max_side=max_side)
        self._haar = HaarBackend(max_side=max_side)

    def detect(self, gray: np.ndarray) -> np.ndarray:
        boxes = self._dlib.detect(gray)
        return boxes if len(boxes) else self._haar.detect(gray)


BACKENDS: dict[str, type] = {"auto": AutoBackend, "dlib": DlibBackend, "haar": HaarBackend}


def get_backend(backend: str | FaceBackend = "auto") -> FaceBackend:
    """Return a backend instance from its name (``"auto"``, ``"dlib"``, ``"haar"``) or as given.

    Raises
    ------
    InputError
        If the name is unknown.
    """
    if isinstance(backend, str):
        if backend not in BACKENDS:
            raise InputError(f"unknown face backend {backend!r}; choose from {sorted(BACKENDS)}")
        return BACKENDS[backend]()
    if not isinstance(backend, FaceBackend):
        raise InputError(f"not a face backend: {backend!r}")
    return backend


def detect_faces(image: np.ndarray, backend: str | FaceBackend = "auto") -> np.ndarray:
    """Face boxes in an image, largest first, shape ``(n_faces, 4)`` as ``(x0, y0, x1, y1)``."""
    return get_backend(backend).detect(to_gray(image))


def face_landmarks(
    image: np.ndarray, box: np.ndarray | None = None, backend: str | FaceBackend = "auto"
) -> np.ndarray | None:
    """68 landmarks of the face in ``box`` (or of the largest detected face), or ``None``.

    Returns
    -------
    np.ndarray | None
        ``(68, 2)`` float32 (x, y) in image pixels; ``None`` when no face is found.
    """
    be = get_backend(backend)
    gray = to_gray(image)
    if box is None:
        boxes = be.detect(gray)
        if len(boxes) == 0:
            return None
        box = boxes[0]
    return be.landmarks(gray, np.asarray(box, dtype=np.float64))
