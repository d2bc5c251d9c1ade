"""Face preprocessing, optical flow and visual features, offline.

Detection and 68 landmarks (:mod:`~mmme.face.detect`), tracking with per-frame face status
(:mod:`~mmme.face.track`), similarity alignment (:mod:`~mmme.face.align`), named ROIs
(:mod:`~mmme.face.roi`), optical flow and strain (:mod:`~mmme.face.flow`), the one-pass front end
(:mod:`~mmme.face.pipeline`), rPPG (:mod:`~mmme.face.rppg`), handcrafted features
(:mod:`~mmme.face.features`), apex estimation (:mod:`~mmme.face.apex`), the store job, cached in
``store.derived("face")`` (:mod:`~mmme.face.batch`, :mod:`mmme.data.derived`) and ``mmme video``
(:mod:`~mmme.face.video`).
"""

from mmme.face.align import align_face, similarity_transform
from mmme.face.apex import apex_is_plausible, estimate_apex
from mmme.face.detect import detect_faces, face_landmarks, get_backend
from mmme.face.features import HOOF, LBPTOP, MDMO
from mmme.face.flow import OpticalFlow, optical_flow, optical_strain, ststnet_input
from mmme.face.pipeline import FaceAnalysis, analyze_frames, read_video
from mmme.face.roi import MOTION_ROIS, SKIN_ROIS, face_rois
from mmme.face.rppg import rppg, rppg_chrom, rppg_heart_rate, rppg_pos
from mmme.face.track import FaceTracker

__all__ = [
    "FaceAnalysis", "FaceTracker", "HOOF", "LBPTOP", "MDMO", "MOTION_ROIS", "OpticalFlow",
    "SKIN_ROIS", "align_face", "analyze_frames", "apex_is_plausible", "detect_faces",
    "estimate_apex", "face_landmarks", "face_rois", "get_backend", "optical_flow",
    "optical_strain", "read_video", "rppg", "rppg_chrom", "rppg_heart_rate", "rppg_pos",
    "similarity_transform", "ststnet_input",
]
