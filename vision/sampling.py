"""What the sampler does with one fetched frame: decode once, thumbnail, analyse, keep evidence.

Blocking (OpenCV and file I/O): the sampler runs :meth:`FrameAnalyser.process`
in a thread pool, never two frames of one camera at once. Per-camera analysis
state (baseline, k-of-n history) lives here, one entry per owned camera; the
sampler copies it to Redis (:mod:`stream.cameras.statestore`) and puts back what it
read there (:meth:`FrameAnalyser.restore`) when it takes a camera over, so a
takeover neither relearns the baseline nor loses a half-confirmed finding.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import cv2

from stream.schemas import FindingKind
from vision.analysis.camera import HAZARDS, Finding, analyse_frame, record_failure
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame, jpeg_dimensions
from vision.analysis.errors import UndecodableFrame
from vision.analysis.image import Detector
from vision.analysis.state import CameraState
from vision.evidence import EvidenceStore, evidence_ref
from vision.sources.outcome import Fetched, FetchOutcome

THUMB_WIDTH = 320
THUMB_QUALITY = 70
RIVERSIDE_WATER_ROI = (0.0, 0.36, 1.0, 0.14)
"""Region (x, y, w, h as shares of the frame) a river-bank camera watches for rising water: the band
just above its normal water line. A default per scene until the registry carries one per camera."""


@dataclass(frozen=True, eq=False)
class Analysed:
    status: FetchOutcome
    """OK, or why there was no usable frame (CORRUPT also when it failed to decode)."""
    width: int
    height: int
    """The frame's size as the camera sent it (0 without a frame)."""
    image_ref: str | None
    """Evidence reference when the frame was kept on disk."""
    thumbnail: bytes | None
    """JPEG, THUMB_WIDTH wide."""
    findings: tuple[Finding, ...]
    state: CameraState
    """The camera's analysis state after this sample."""
    evidence_refused: str | None = None
    """Why the file system refused to keep this frame as evidence (disk full), if it did."""


def keeps_evidence(findings: tuple[Finding, ...]) -> bool:
    """Keep the frame for a hazard, and for a camera fault only at its onset (not every confirmed repeat)."""
    return any(f.kind in HAZARDS or not f.confirmed for f in findings
               if f.kind not in (FindingKind.OFFLINE, FindingKind.CORRUPT))


def make_thumbnail(pixels: "cv2.typing.MatLike") -> bytes:
    height, width = pixels.shape[:2]
    if width > THUMB_WIDTH:
        pixels = cv2.resize(pixels, (THUMB_WIDTH, max(1, height * THUMB_WIDTH // width)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    return data.tobytes() if ok else b""


class FrameAnalyser:
    """Blocking frame processing for a thread pool: one classifier per thread (an OpenCV dnn
    network is not safe to run from two threads at once), one analysis state per camera."""

    def __init__(self, load_model: Callable[[], Detector], evidence: EvidenceStore,
                 config: AnalysisConfig = AnalysisConfig(), *, riverside: frozenset[str] = frozenset(),
                 water_roi: tuple[float, float, float, float] = RIVERSIDE_WATER_ROI) -> None:
        self.load_model = load_model
        self.evidence = evidence
        self.config = config
        self.riverside = riverside
        self.water_config = replace(config, water_roi=water_roi)
        self.states: dict[str, CameraState] = {}
        self._closer: set[str] = set()
        self._local = threading.local()

    @property
    def model(self) -> Detector:
        model = getattr(self._local, "model", None)
        if model is None:
            model = self._local.model = self.load_model()
        return model

    def look_closer(self, camera_id: str) -> None:
        """Send the camera's next sample through the network whatever the cascade says (its cell's fire
        risk rose): see ``analyse_frame(..., look_closer=True)``."""
        self._closer.add(camera_id)

    def forget(self, camera_id: str) -> None:
        """Drop a camera's state (it moved to another worker)."""
        self.states.pop(camera_id, None)

    def restore(self, camera_id: str, state: CameraState) -> CameraState:
        """Continue a camera from ``state`` (read back after a takeover) unless this worker still holds
        a newer one (it owned the camera moments ago); returns the state the camera continues from."""
        return self.states.setdefault(camera_id, state)

    def held(self, camera_ids: Iterable[str]) -> dict[str, CameraState]:
        """The states held for ``camera_ids`` (safe while other cameras are analysed)."""
        return {c: state for c in camera_ids if (state := self.states.get(c)) is not None}

    def _failure(self, camera_id: str, status: FetchOutcome, at: datetime) -> Analysed:
        kind = FindingKind.CORRUPT if status is FetchOutcome.CORRUPT else FindingKind.OFFLINE
        findings, state = record_failure(kind, self.states.get(camera_id, CameraState()), at, self.config)
        self.states[camera_id] = state
        return Analysed(status, 0, 0, None, None, findings, state)

    def process(self, camera_id: str, fetched: Fetched, started: float) -> Analysed:
        """Analyse one sample taken at ``started`` (POSIX seconds)."""
        at = datetime.fromtimestamp(started, timezone.utc)
        if fetched.outcome is not FetchOutcome.OK or not fetched.data:
            return self._failure(camera_id, fetched.outcome, at)
        ref = evidence_ref(camera_id, at)
        try:
            frame = decode_frame(fetched.data, target_width=self.config.decode_width, ref=ref)
        except UndecodableFrame:
            return self._failure(camera_id, FetchOutcome.CORRUPT, at)
        width, height = jpeg_dimensions(fetched.data) or frame.original_size
        config = self.water_config if camera_id in self.riverside else self.config
        closer = camera_id in self._closer
        self._closer.discard(camera_id)
        findings, state = analyse_frame(frame, self.states.get(camera_id, CameraState()), at, config, self.model,
                                        look_closer=closer)
        self.states[camera_id] = state
        image_ref, refused = None, None
        if keeps_evidence(findings):
            if self.evidence.save(ref, fetched.data, started):
                image_ref = ref
            else:
                refused = self.evidence.last_error or "refused"
        if image_ref is None:  # nothing to keep, or the disk refused it: the findings go on without the frame
            findings = tuple(replace(f, evidence_ref=None) for f in findings)
        return Analysed(FetchOutcome.OK, width, height, image_ref, make_thumbnail(frame.pixels), findings, state,
                        refused)
