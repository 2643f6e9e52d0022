"""Image-level camera health (vision/analysis/health.py)."""

from __future__ import annotations

import cv2
import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame
from vision.analysis.features import planes_of, work_image
from vision.analysis.health import (
    HealthFlags,
    HealthMetrics,
    health_flags,
    health_metrics,
    sharpness_of,
)

CONFIG = AnalysisConfig()
SOFT_SIGMA = 4.0  # sharpness falls to ~0.27 of the sharp scene: above the absolute limit, below 0.6 x baseline


def _scene(width: int, height: int) -> np.ndarray:
    """A textured scene (smooth noise + bars) drawn at any resolution from the same layout."""
    rng = np.random.default_rng(5)
    coarse = cv2.resize(rng.integers(40, 220, (36, 64, 3), dtype=np.uint8), (320, 180), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 18, (180, 320, 1))
    texture = np.clip(coarse + fine, 0, 255).astype(np.uint8)
    base = cv2.resize(texture, (width, height), interpolation=cv2.INTER_LINEAR)
    for i in range(8):
        x = int((0.1 + 0.1 * i) * width)
        cv2.rectangle(base, (x, int(0.3 * height)), (x + width // 40, int(0.8 * height)), (20, 20, 20), -1)
    return base


def _metrics(image: np.ndarray) -> HealthMetrics:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    frame = decode_frame(data.tobytes(), target_width=CONFIG.decode_width)
    planes = planes_of(work_image(frame.pixels, CONFIG.work_width))
    gray = cv2.cvtColor(frame.pixels, cv2.COLOR_BGR2GRAY)
    return health_metrics(gray, planes.gray, planes.edges, CONFIG)


def _flags(image: np.ndarray, baseline_sharpness: float | None = None) -> HealthFlags:
    return health_flags(_metrics(image), CONFIG, baseline_sharpness)


def test_sharpness_does_not_depend_on_the_camera_resolution() -> None:
    small = sharpness_of(cv2.cvtColor(_scene(640, 360), cv2.COLOR_BGR2GRAY), 320)
    large = sharpness_of(cv2.cvtColor(_scene(1280, 720), cv2.COLOR_BGR2GRAY), 320)
    assert abs(small - large) / max(small, large) < 0.25


def test_healthy_scene_raises_nothing() -> None:
    assert _flags(_scene(1280, 720)) == HealthFlags(dark=False, overexposed=False, blurred=False, covered=False, night=False)


def test_defocus_is_blurred() -> None:
    scene = _scene(1280, 720)
    assert _flags(cv2.GaussianBlur(scene, (0, 0), 12)).blurred


def test_mild_softening_is_blurred_only_against_a_sharp_baseline() -> None:
    scene = _scene(1280, 720)
    soft = cv2.GaussianBlur(scene, (0, 0), SOFT_SIGMA)
    assert not _flags(soft).blurred
    ok, data = cv2.imencode(".jpg", scene)
    frame = decode_frame(data.tobytes())
    baseline = sharpness_of(cv2.cvtColor(frame.pixels, cv2.COLOR_BGR2GRAY), CONFIG.blur_width)
    assert _flags(soft, baseline_sharpness=baseline).blurred


def test_black_frame_is_dark_not_covered_or_blurred() -> None:
    noise = np.random.default_rng(1).integers(0, 7, (720, 1280, 3), dtype=np.uint8)
    flags = _flags(noise)
    assert flags.dark and flags.night and not flags.covered and not flags.blurred


def test_lit_street_at_night_is_not_dark() -> None:
    night = (_scene(1280, 720) * 0.15).astype(np.uint8)
    for x in range(100, 1280, 250):  # street lamps
        cv2.circle(night, (x, 200), 30, (200, 230, 255), -1)
    flags = _flags(night)
    assert flags.night and not flags.dark and not flags.blurred


def test_clipped_white_is_overexposed() -> None:
    assert _flags(cv2.convertScaleAbs(_scene(1280, 720), alpha=2.6, beta=110)).overexposed


def test_uniform_lens_cover_is_covered() -> None:
    shade = np.linspace(60, 80, 1280, dtype=np.float32)[None, :, None]
    cover = np.broadcast_to(shade, (720, 1280, 3)).astype(np.uint8)
    assert _flags(cover).covered


def test_white_sky_over_dark_ground_is_not_overexposed() -> None:
    """Half the frame clipped (an overcast sky) above a dark field: a real scene, not overexposure."""
    frame = _scene(1280, 720)
    frame[:380] = 255
    m = _metrics(frame)
    assert m.clipped_share >= CONFIG.overexposed_share and m.luma_p10 < CONFIG.overexposed_floor
    assert not health_flags(m, CONFIG).overexposed


def test_flat_black_is_a_lost_signal_and_dark_noise_is_not() -> None:
    black = _flags(np.zeros((720, 1280, 3), np.uint8))
    assert black.dark and black.no_signal and black.blank
    noise = _flags(np.random.default_rng(1).integers(0, 7, (720, 1280, 3), dtype=np.uint8))
    assert noise.dark and not noise.no_signal  # a live sensor in the dark still has noise
