"""Detection, landmarks, alignment and ROIs on the astronaut photo and on a moving face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mmme.errors import InputError
from mmme.face.align import CANONICAL_ANCHORS, align_face, anchor_points
from mmme.face.detect import detect_faces, face_landmarks, get_backend, to_gray
from mmme.face.roi import ALL_ROIS, MOTION_ROIS, face_rois, grid_rois
from mmme.face.track import LOST, FaceTracker

# Hand-read positions in skimage.data.astronaut() (512 x 512): pupils and mouth corners.
EYE_R = (204, 102)  # subject's right eye (image left)
EYE_L = (247, 104)
MOUTH_R, MOUTH_L = (201, 139), (245, 141)


@pytest.fixture(scope="module")
def landmarks(astronaut_bgr):
    lm = face_landmarks(astronaut_bgr, backend="dlib")
    assert lm is not None
    return lm


def test_landmarks_fall_on_the_face(landmarks):
    assert landmarks.shape == (68, 2)
    # The whole face lies in x 170..285, y 60..190 of the photo (hair and helmet excluded).
    assert landmarks[:, 0].min() > 170 and landmarks[:, 0].max() < 285
    assert landmarks[:, 1].min() > 60 and landmarks[:, 1].max() < 190
    assert np.linalg.norm(landmarks[36:42].mean(0) - EYE_R) < 4
    assert np.linalg.norm(landmarks[42:48].mean(0) - EYE_L) < 4
    assert np.linalg.norm(landmarks[48] - MOUTH_R) < 5
    assert np.linalg.norm(landmarks[54] - MOUTH_L) < 5
    assert landmarks[8, 1] > landmarks[57, 1] > landmarks[30, 1] > landmarks[27, 1]  # chin lowest


def test_haar_fallback_agrees_with_dlib(astronaut_bgr, landmarks):
    haar = get_backend("haar")
    gray = to_gray(astronaut_bgr)
    boxes = haar.detect(gray)
    assert len(boxes) >= 1
    lm = haar.landmarks(gray, boxes[0])
    assert np.median(np.linalg.norm(lm - landmarks, axis=1)) < 3.0


def test_no_face_and_bad_input():
    blank = np.full((200, 200, 3), 128, np.uint8)
    assert face_landmarks(blank) is None
    assert len(detect_faces(blank)) == 0
    with pytest.raises(InputError, match="unknown face backend"):
        get_backend("retina")
    with pytest.raises(InputError, match="shape"):
        to_gray(np.zeros((2, 3, 4, 5)))


def test_rois_contain_the_eyes_and_mouth(astronaut_bgr, landmarks):
    rois = face_rois(landmarks, astronaut_bgr.shape)
    assert tuple(rois) == ALL_ROIS
    assert rois["eye_right"].contains(landmarks[36:42]).all()
    assert rois["eye_left"].contains(landmarks[42:48]).all()
    assert not rois["eye_left"].contains([EYE_R]).any()
    assert rois["eye_right"].contains([EYE_R]).all() and rois["eye_left"].contains([EYE_L]).all()
    assert rois["mouth_right"].contains([MOUTH_R]).all()
    assert rois["mouth_left"].contains([MOUTH_L]).all()
    assert rois["brow_left"].contains(landmarks[22:27]).all()
    assert rois["brow_right"].contains(landmarks[17:22]).all()
    # Brows above eyes, forehead above brows, cheeks between eyes and mouth, chin below mouth.
    assert rois["forehead"].box[3] <= rois["brow_left"].box[1] + 5
    assert rois["cheek_left"].box[1] > EYE_L[1] and rois["cheek_left"].box[3] <= MOUTH_L[1] + 2
    assert rois["chin"].box[1] > landmarks[57, 1]
    # The eye itself is masked out (blinks): the pupil pixel is not part of the eye ROI.
    eye = rois["eye_left"]
    x0, y0 = eye.box[:2]
    assert not eye.mask[EYE_L[1] - y0, EYE_L[0] - x0]
    assert eye.mask.mean() > 0.4


def test_alignment_puts_anchors_on_the_template(astronaut_bgr, landmarks):
    crop, lm_crop, m = align_face(astronaut_bgr, landmarks, size=128)
    assert crop.shape == (128, 128, 3)
    err = np.linalg.norm(anchor_points(lm_crop) - CANONICAL_ANCHORS * 128, axis=1)
    assert err[:2].max() < 4  # the eyes land where the template puts them
    rois = face_rois(lm_crop, crop.shape, MOTION_ROIS)
    assert all(not r.empty for r in rois.values())
    # the crop at the aligned pupil is dark (eye), the cheek is brighter (skin)
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(float)
    ex, ey = lm_crop[42:48].mean(0).round().astype(int)
    assert g[ey, ex] < g[rois["mouth_left"].box[1] - 8, ex]


def test_grid_rois_tile_the_image():
    g = grid_rois((100, 90), (3, 4))
    area = sum((r.box[2] - r.box[0]) * (r.box[3] - r.box[1]) for r in g.values())
    assert len(g) == 12 and area == 100 * 90


def test_tracker_follows_a_moving_face(astronaut_bgr):
    base = astronaut_bgr[20:260, 100:340]
    tracker = FaceTracker("dlib")
    ref = None
    for k in range(20):
        dx, dy = 0.8 * k, 0.4 * k
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        frame = cv2.warpAffine(base, m, (240, 240), borderMode=cv2.BORDER_REPLICATE)
        ff = tracker.update(frame)
        assert ff.status != LOST
        if ref is None:
            ref = ff.landmarks
            assert ff.status == "detected"
        else:
            moved = ff.landmarks - ref
            assert np.median(np.abs(moved[:, 0] - dx)) < 1.5
            assert np.median(np.abs(moved[:, 1] - dy)) < 1.5
