"""Scene and fault synthesis of the simulated fleet: each fault really looks like what it claims."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from vision.fleet.camera import fleet_camera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.light import solar_elevation_deg
from vision.fleet.render import FrameRenderer, corrupt_jpeg, encode_jpeg
from vision.fleet.scene import SceneKind

HEIHE = (127.5, 50.25)
NOON = datetime(2026, 6, 21, 4, 0, tzinfo=timezone.utc)
MIDNIGHT = datetime(2026, 6, 21, 16, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def renderer() -> FrameRenderer:
    return FrameRenderer(seed=7)


def camera(scene: str, camera_id: str = "cam"):
    return fleet_camera(camera_id, scene, *HEIHE, None, seed=7)


def event(kind: EventKind, start: datetime = NOON - timedelta(minutes=20), intensity: float = 1.0) -> ScriptedEvent:
    return ScriptedEvent("e1", kind, frozenset({"cam"}), start, None, intensity)


def sharpness(frame: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_solar_elevation_matches_the_textbook_noon_value() -> None:
    # solstice noon elevation = 90 - latitude + 23.44 = 63.19 deg at 50.25 N; local solar noon 03:30 UTC at 127.5 E
    june_noon = datetime(2026, 6, 21, 3, 30, tzinfo=timezone.utc)
    assert solar_elevation_deg(june_noon, *HEIHE) == pytest.approx(63.19, abs=0.6)
    # winter solstice noon: 90 - 50.25 - 23.44 = 16.31 deg
    december_noon = datetime(2026, 12, 21, 3, 30, tzinfo=timezone.utc)
    assert solar_elevation_deg(december_noon, *HEIHE) == pytest.approx(16.31, abs=0.6)
    assert solar_elevation_deg(MIDNIGHT, *HEIHE) < -10


@pytest.mark.parametrize("scene", list(SceneKind))
def test_scenes_are_natural_sized_textured_and_darker_at_night(renderer: FrameRenderer, scene: SceneKind) -> None:
    cam = camera(scene.value)
    day = renderer.render(cam, NOON)
    night = renderer.render(cam, MIDNIGHT)
    assert day.shape == (cam.height, cam.width, 3) and (cam.width, cam.height) in {(640, 360), (960, 540), (1280, 720)}
    assert day.std() > 20 and sharpness(day) > 20  # texture, not a flat fill
    assert day[: cam.height // 10].mean(axis=(0, 1))[0] > day[: cam.height // 10].mean(axis=(0, 1))[2]  # blue sky
    assert night.mean() < 0.35 * day.mean()


def test_frames_change_between_steps_but_replay_identically(renderer: FrameRenderer) -> None:
    cam = camera("forest")
    a, b = renderer.render(cam, NOON), renderer.render(cam, NOON + timedelta(seconds=1))
    assert not np.array_equal(a, b)  # sensor noise differs
    assert np.array_equal(a, FrameRenderer(seed=7).render(cam, NOON))


def scene_detail(frame: np.ndarray) -> float:
    """Laplacian variance at a quarter of the size, where sensor noise has averaged away: the scene's fine detail."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (gray.shape[1] // 4, gray.shape[0] // 4), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


@pytest.mark.parametrize("at", [NOON, MIDNIGHT])
def test_black_is_a_lost_signal_without_sensor_noise(renderer: FrameRenderer, at: datetime) -> None:
    black = renderer.render(camera("street"), at, (event(EventKind.BLACK),))
    assert black.max() == 0  # flat digital black: not a dark scene, which always carries noise


@pytest.mark.parametrize("at", [NOON, MIDNIGHT])
@pytest.mark.parametrize("scene", list(SceneKind))
def test_overexposed_clips_most_of_the_view_and_washes_out_the_rest(renderer: FrameRenderer, scene: SceneKind,
                                                                     at: datetime) -> None:
    """Exposure far too long, by day or night: most pixels at full scale, even the darkest tenth pale.

    (The fault once only lifted the picture to a flat grey, mean 167 and nothing above 240 at night:
    no clipping at all, and a classifier reads such a frame as smoke.)
    """
    luma = cv2.cvtColor(renderer.render(camera(scene.value), at, (event(EventKind.OVEREXPOSED),)), cv2.COLOR_BGR2GRAY)
    assert (luma >= 250).mean() > 0.5
    assert np.percentile(luma, 10) > 180 and luma.mean() > 230


@pytest.mark.parametrize("scene", list(SceneKind))
def test_defocus_blurs_the_scene_but_not_the_sensor_noise(renderer: FrameRenderer, scene: SceneKind) -> None:
    """Optics blur the light before the sensor: the scene's detail is gone, the noise between frames is not."""
    cam, later = camera(scene.value), NOON + timedelta(seconds=1)
    normal, normal_later = renderer.render(cam, NOON), renderer.render(cam, later)
    soft = renderer.render(cam, NOON, (event(EventKind.DEFOCUSED),))
    soft_later = renderer.render(cam, later, (event(EventKind.DEFOCUSED),))
    assert scene_detail(soft) < 0.1 * scene_detail(normal)
    noise, soft_noise = ((a.astype(np.float32) - b).std() for a, b in ((normal, normal_later), (soft, soft_later)))
    assert soft_noise == pytest.approx(noise, rel=0.1)


def test_covered_loses_detail(renderer: FrameRenderer) -> None:
    cam = camera("square")
    covered = renderer.render(cam, NOON, (event(EventKind.COVERED),))
    assert covered.mean() < 60 and covered.std() < 10


def test_turned_away_shows_another_view(renderer: FrameRenderer) -> None:
    cam = camera("street")
    normal = cv2.cvtColor(renderer.render(cam, NOON), cv2.COLOR_BGR2GRAY).astype(np.float32)
    turned = cv2.cvtColor(renderer.render(cam, NOON, (event(EventKind.TURNED_AWAY),)), cv2.COLOR_BGR2GRAY)
    correlation = np.corrcoef(normal.ravel(), turned.astype(np.float32).ravel())[0, 1]
    assert correlation < 0.7


def test_flame_adds_flame_coloured_pixels_that_flicker(renderer: FrameRenderer) -> None:
    cam = camera("forest")
    normal = renderer.render(cam, NOON)

    def flame_pixels(frame: np.ndarray) -> np.ndarray:
        b, g, r = (frame[..., i].astype(int) for i in range(3))
        return (r > 190) & (r >= g) & (g > b + 30)  # Chen et al. 2004 style R > R_T, R >= G > B

    fire = renderer.render(cam, NOON, (event(EventKind.FLAME),))
    later = renderer.render(cam, NOON + timedelta(seconds=1), (event(EventKind.FLAME),))
    assert flame_pixels(normal).sum() == 0
    assert flame_pixels(fire).sum() > 500
    assert (flame_pixels(fire) ^ flame_pixels(later)).sum() > 50  # the shape flickers between steps


def test_smoke_greys_and_softens_a_region(renderer: FrameRenderer) -> None:
    cam = camera("forest")
    normal = renderer.render(cam, NOON)
    smoky = renderer.render(cam, NOON, (event(EventKind.SMOKE),))
    hsv_n, hsv_s = (cv2.cvtColor(f, cv2.COLOR_BGR2HSV) for f in (normal, smoky))
    changed = np.abs(smoky.astype(int) - normal.astype(int)).sum(axis=2) > 30
    assert changed.mean() > 0.02
    assert hsv_s[..., 1][changed].mean() < 0.7 * hsv_n[..., 1][changed].mean()  # lower saturation


def test_water_rises_over_the_riverside_marker(renderer: FrameRenderer) -> None:
    cam = camera("river")
    pano = renderer.panorama(cam.scene, cam.variant, cam.width, cam.height)
    geo = pano.geometry
    x = geo.marker_x - cam.offset_x + 2
    assert 0 <= x < cam.width, "the marker is in every river camera's view"

    def marker_red_rows(frame: np.ndarray) -> int:
        column = frame[:, x].astype(int)
        return int(((column[:, 2] > 150) & (column[:, 1] < 90)).sum())

    before = marker_red_rows(renderer.render(cam, NOON))
    rising = ScriptedEvent("w", EventKind.WATER_RISE, frozenset({"cam"}), NOON - timedelta(minutes=20), None, 1.0)
    after = marker_red_rows(renderer.render(cam, NOON, (rising,)))
    assert before > 10 and after < 0.5 * before


def test_corrupt_jpeg_really_fails_to_decode(renderer: FrameRenderer) -> None:
    data = encode_jpeg(renderer.render(camera("street"), NOON))
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    broken = corrupt_jpeg(data, seed=1)
    assert broken[:2] == b"\xff\xd8" and abs(len(broken) - len(data)) < 100
    assert cv2.imdecode(np.frombuffer(broken, np.uint8), cv2.IMREAD_COLOR) is None
