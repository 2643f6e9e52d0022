"""Frames from the simulated fleet with known truth (flame, smoke plume, or nothing).

Training adds some to the real photos (the fleet is what a drill shows the
analysis); evaluation uses other panorama variants and times, so no rendered
scene is both learnt and judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from vision.fleet.camera import FleetCamera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.render import FrameRenderer, encode_jpeg
from vision.fleet.scene import PANORAMA_FACTOR, SceneKind

HEIHE = (127.5, 50.25)
TRAIN_VARIANTS = (0, 1)
EVAL_VARIANTS = (2, 3)
_SIZES = ((640, 360), (1280, 720))
_TRUTH = {None: (False, False), EventKind.FLAME: (True, False), EventKind.SMOKE: (False, True)}


@dataclass(frozen=True)
class SyntheticFrame:
    jpeg: bytes
    fire: bool
    smoke: bool
    group: str
    """Scene and variant: frames of one group are near-duplicates."""


def synthetic_frames(variants: tuple[int, ...], per_case: int, seed: int) -> list[SyntheticFrame]:
    """``per_case`` frames for each scene x variant x (nothing, flame, smoke), at random day/night times."""
    rng = np.random.default_rng(seed)
    renderer = FrameRenderer(seed=seed)
    frames = []
    for scene in SceneKind:
        for variant in variants:
            for kind, (fire, smoke) in _TRUTH.items():
                for _ in range(per_case):
                    width, height = _SIZES[int(rng.integers(len(_SIZES)))]
                    offset = int(rng.integers(0, int(width * PANORAMA_FACTOR) - width + 1))
                    camera = FleetCamera(f"syn-{scene.value}-{variant}", scene, width, height, variant, offset, *HEIHE, None)
                    # 00:00-24:00 UTC covers Heihe day and night; events started 0-10 min earlier.
                    at = datetime(2026, 5, 1, tzinfo=timezone.utc) + timedelta(seconds=float(rng.uniform(0, 86_400)))
                    events = ()
                    if kind is not None:
                        start = at - timedelta(seconds=float(rng.uniform(0, 600)))
                        intensity = float(rng.uniform(0.4, 1.0))
                        events = (ScriptedEvent("syn", kind, frozenset({camera.camera_id}), start, None, intensity),)
                    jpeg = encode_jpeg(renderer.render(camera, at, events))
                    frames.append(SyntheticFrame(jpeg, fire, smoke, f"{scene.value}/{variant}"))
    return frames
