"""Pure analysis of camera frames: decode, health, fire, smoke, water, per-camera confirmation.

Entry points:

- :func:`decode_frame` / :func:`read_frame` -> :class:`Frame` (reduced-resolution decode);
- :func:`analyse_image` (one frame on its own) -> :class:`ImageAnalysis`;
- :func:`analyse_frame` (one sample of one camera, with its :class:`CameraState`)
  -> ``(findings, new_state)``; :func:`record_failure` for samples that gave no frame;
- :class:`FireSmokeModel` (the shipped ONNX classifier, run by ``cv2.dnn``).
"""

from vision.analysis.camera import Finding, analyse_frame, record_failure
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import Frame, decode_frame, read_frame
from vision.analysis.errors import AnalysisError, UndecodableFrame
from vision.analysis.image import ImageAnalysis, analyse_image
from vision.analysis.model import DEFAULT_MODEL_PATH, FireSmokeModel
from vision.analysis.state import CameraState, state_from_json, state_to_json

__all__ = [
    "DEFAULT_MODEL_PATH",
    "AnalysisConfig",
    "AnalysisError",
    "CameraState",
    "FireSmokeModel",
    "Finding",
    "Frame",
    "ImageAnalysis",
    "UndecodableFrame",
    "analyse_frame",
    "analyse_image",
    "decode_frame",
    "read_frame",
    "record_failure",
    "state_from_json",
    "state_to_json",
]
