"""Findings as wire events (``stream.schemas.VisionFinding``)."""

from __future__ import annotations

from datetime import datetime

from stream.schemas import VisionFinding
from vision.analysis.camera import Finding


def to_vision_finding(finding: Finding, *, camera_id: str, source: str, event_time: datetime) -> VisionFinding:
    """The wire event for a finding; ``event_time`` is the sample's time, ``cells`` are left to the stream."""
    return VisionFinding(
        source=source,
        event_time=event_time,
        camera_id=camera_id,
        kind=finding.kind,
        score=finding.score,
        confirmed=finding.confirmed,
        bbox=finding.region,
        evidence_ref=finding.evidence_ref,
    )
