"""The fleet's cameras: what each one looks at, derived deterministically from its id and a seed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from vision.fleet.events import CameraPlace
from vision.fleet.scene import PANORAMA_FACTOR, SceneKind

#: Frame sizes a camera may have, with their share of the fleet (most are 640x360 channels).
FRAME_SIZES: tuple[tuple[int, int, float], ...] = ((640, 360, 0.7), (960, 540, 0.2), (1280, 720, 0.1))
DEFAULT_VARIANTS = 4
"""Distinct panoramas per (scene kind, size); cameras differ further by their offset."""


class RegistryCamera(Protocol):
    """The fields of a registry camera (gis.registry) the fleet reads."""

    camera_id: str
    lon: float
    lat: float
    scene: str
    cell_code: str | None


@dataclass(frozen=True)
class FleetCamera:
    camera_id: str
    scene: SceneKind
    width: int
    height: int
    variant: int
    offset_x: int
    """Column of the panorama where this camera's frame starts."""
    lon: float
    lat: float
    cell_code: str | None

    @property
    def place(self) -> CameraPlace:
        return CameraPlace(self.camera_id, self.lon, self.lat, self.cell_code)


def _unit(seed: int, camera_id: str, salt: str) -> float:
    """A stable number in [0, 1) from (seed, camera id, salt)."""
    digest = hashlib.blake2b(f"{seed}:{camera_id}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def fleet_camera(camera_id: str, scene: str, lon: float, lat: float, cell_code: str | None, *, seed: int,
                 variants: int = DEFAULT_VARIANTS) -> FleetCamera:
    u = _unit(seed, camera_id, "size")
    for width, height, share in FRAME_SIZES:
        if u < share:
            break
        u -= share
    variant = int(_unit(seed, camera_id, "variant") * variants)
    max_offset = int(width * PANORAMA_FACTOR) - width
    offset = int(_unit(seed, camera_id, "offset") * (max_offset + 1))
    return FleetCamera(camera_id, SceneKind(scene), width, height, variant, offset, lon, lat, cell_code)


def fleet_from_registry(cameras: Iterable[RegistryCamera], *, seed: int,
                        variants: int = DEFAULT_VARIANTS) -> dict[str, FleetCamera]:
    return {c.camera_id: fleet_camera(c.camera_id, c.scene, c.lon, c.lat, c.cell_code, seed=seed, variants=variants)
            for c in cameras}
