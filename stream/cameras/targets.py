"""Where and how the sampler fetches one camera (light: read by the gateway and the incidents engine too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CameraTarget:
    """Where and how to fetch one camera, and the grid cells it sees."""

    camera_id: str
    protocol: str
    """http | rtsp | file"""
    address: str
    cells: tuple[str, ...]
