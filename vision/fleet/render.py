"""One camera's frame at one virtual instant: base scene, daylight, sensor noise, events, faults.

Frames change in steps of :data:`FRAME_STEP_S` virtual seconds and are a pure
function of (camera, step, active events, seed), so a drill replays the same
pixels and the server may cache an encoded step. Per request only cheap,
vectorised OpenCV operations run on the camera's view of a shared panorama;
events touch a region of interest only.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from datetime import datetime

import cv2
import numpy as np

from vision.fleet.camera import FleetCamera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.light import NIGHT_LEVEL, brightness, solar_elevation_deg
from vision.fleet.scene import Panorama, SceneKind, render_panorama, view_of

FRAME_STEP_S = 0.5
"""Virtual seconds per distinct frame (flame flicker and noise change at this rate)."""
WATER_RISE_S = 600.0
"""Virtual seconds for a water-rise event to reach its full height."""
SMOKE_GROWTH_S = 120.0
"""Virtual seconds for a smoke plume to reach its full height."""
NOISE_MEAN = 8
JPEG_QUALITY = 80


def step_of(at: datetime) -> int:
    return int(math.floor(at.timestamp() / FRAME_STEP_S))


def seed_of(*parts: object) -> int:
    """A stable non-negative 64-bit seed from any parts (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


class FrameRenderer:
    """Renders frames; holds the panoramas (LRU) and noise tiles it reuses across cameras."""

    def __init__(self, *, seed: int, max_panoramas: int = 64) -> None:
        self.seed = seed
        self.max_panoramas = max_panoramas
        self._panoramas: OrderedDict[tuple[SceneKind, int, int, int], Panorama] = OrderedDict()
        self._noise: dict[tuple[int, int], np.ndarray] = {}

    def panorama(self, kind: SceneKind, variant: int, width: int, height: int) -> Panorama:
        key = (kind, variant, width, height)
        found = self._panoramas.get(key)
        if found is None:
            found = self._panoramas[key] = render_panorama(kind, variant, width, height)
            while len(self._panoramas) > self.max_panoramas:
                self._panoramas.popitem(last=False)
        else:
            self._panoramas.move_to_end(key)
        return found

    def _noise_tile(self, width: int, height: int) -> np.ndarray:
        tile = self._noise.get((width, height))
        if tile is None:
            rng = np.random.default_rng(seed_of(self.seed, "noise", width, height))
            tile = np.clip(rng.normal(NOISE_MEAN, 3.0, (2 * height, 2 * width, 3)), 0, 2 * NOISE_MEAN).astype(np.uint8)
            self._noise[(width, height)] = tile
        return tile

    def render(self, camera: FleetCamera, at: datetime, events: tuple[ScriptedEvent, ...] = ()) -> np.ndarray:
        """The camera's BGR frame at virtual time ``at`` with ``events`` applied."""
        step = step_of(at)
        kinds = {e.kind for e in events}
        pano = self.panorama(camera.scene, camera.variant, camera.width, camera.height)
        offset = camera.offset_x
        if EventKind.TURNED_AWAY in kinds:  # looks somewhere else: another part of another scene, mirrored
            pano = self.panorama(camera.scene, camera.variant + 1, camera.width, camera.height)
            offset = pano.pixels.shape[1] - camera.width - offset
        view = view_of(pano, offset, camera.width)
        level = brightness(solar_elevation_deg(at, camera.lon, camera.lat))
        night = 1.0 - min(1.0, (level - NIGHT_LEVEL) / (1.0 - NIGHT_LEVEL))
        rng = np.random.default_rng(seed_of(self.seed, camera.camera_id, step))
        noise = self._noise_tile(camera.width, camera.height)
        row, col = int(rng.integers(0, camera.height)), int(rng.integers(0, camera.width))
        # daylight and sensor noise in one pass: view * level + noise - mean
        frame = cv2.addWeighted(view, level, noise[row:row + camera.height, col:col + camera.width], 1.0,
                                -NOISE_MEAN)
        if night > 0.05:  # moonlight and sodium lamps: bluer shadows, fewer reds
            cv2.multiply(frame, (1 + 0.25 * night, 1.0, 1 - 0.15 * night, 0.0), dst=frame)
        if EventKind.TURNED_AWAY in kinds:
            frame = cv2.flip(frame, 1)
        for event in events:
            if event.kind is EventKind.WATER_RISE:
                _water_rise(frame, pano, offset, at, event)
        for event in events:
            if event.kind is EventKind.SMOKE:
                _smoke(frame, pano, camera, at, event, rng)
        for event in events:
            if event.kind is EventKind.FLAME:
                _flame(frame, pano, camera, event, rng)
        return _image_faults(frame, kinds, rng, noise)


def _image_faults(frame: np.ndarray, kinds: set[EventKind], rng: np.random.Generator,
                  noise: np.ndarray) -> np.ndarray:
    """What a faulty camera does to its picture, in the order light meets it: lens, sensor, signal."""
    h, w = frame.shape[:2]
    if EventKind.COVERED in kinds:  # something over the lens: dark, nearly uniform, soft shading
        shade = np.linspace(28, 44, w, dtype=np.float32)[None, :, None]
        frame = np.broadcast_to(shade * np.array([1.0, 1.05, 1.1], np.float32), (h, w, 3)).astype(np.uint8)
        frame = cv2.add(frame, rng.integers(0, 3, frame.shape, dtype=np.uint8))
    if EventKind.DEFOCUSED in kinds:
        frame = _defocused(frame, rng, noise)
    if EventKind.OVEREXPOSED in kinds:
        frame = _overexposed(frame)
    if EventKind.BLACK in kinds:  # signal lost: the encoder sends flat black, without even sensor noise
        frame = np.zeros_like(frame)
    return frame


def _defocused(frame: np.ndarray, rng: np.random.Generator, noise: np.ndarray) -> np.ndarray:
    """The lens out of focus: the scene through a disc-shaped blur (radius 1.25-1.6 % of the width), then sensor noise.

    Optics blur the light before it reaches the sensor, so the noise stays sharp: the frame's fine
    detail falls to the noise's, not to nothing. The disc is applied at a quarter of the size (cheap).
    """
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    small = cv2.filter2D(small, -1, _disc(max(1, w // 256)), borderType=cv2.BORDER_REFLECT)
    optical = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    row, col = int(rng.integers(0, h)), int(rng.integers(0, w))
    return cv2.addWeighted(optical, 1.0, noise[row:row + h, col:col + w], 1.0, -NOISE_MEAN)


def _disc(radius: int) -> np.ndarray:
    """A defocus point-spread function: a uniform disc, summing to 1."""
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1.0, -1, lineType=cv2.LINE_AA)
    return kernel / kernel.sum()


OVEREXPOSED_SATURATED = 0.75
"""Share of the view an overexposed camera drives to full well (its exposure is that far too long)."""


def _overexposed(frame: np.ndarray) -> np.ndarray:
    """Exposure far too long: most of the view clips to white, the excess light blooms, the rest is washed out.

    The gain takes the frame's 25th luma percentile to full scale, so three quarters of the view
    saturate by day or night (at night the gain also lifts the sensor noise, as a real camera's
    would). Light beyond full scale spills into neighbouring pixels (blooming, a wide blur drawn at
    a quarter of the size); near full scale the colour fades to white, as an ISP's highlight
    roll-off does. What remains is pale and flat.
    """
    h, w = frame.shape[:2]
    luma = cv2.cvtColor(frame[::4, ::4], cv2.COLOR_BGR2GRAY)
    knee = float(np.percentile(luma, 100 * (1 - OVEREXPOSED_SATURATED)))
    exposed = frame.astype(np.float32)
    exposed *= 255.0 / max(4.0, knee)
    y = cv2.cvtColor(exposed, cv2.COLOR_BGR2GRAY)
    excess = np.clip(cv2.resize(y, (w // 4, h // 4), interpolation=cv2.INTER_AREA) - 255.0, 0.0, 255.0)
    bloom = cv2.resize(cv2.GaussianBlur(excess, (0, 0), w / 320) * 0.25, (w, h), interpolation=cv2.INTER_LINEAR)
    white = cv2.addWeighted(y, 1 / 102.0, bloom, 1 / 102.0, -2.0)  # 0 at 0.8 of full scale, 1 at 1.2
    white = cv2.merge([np.clip(white, 0.0, 1.0, out=white)] * 3)
    lit = cv2.add(exposed, cv2.merge([bloom] * 3))
    return cv2.convertScaleAbs(cv2.add(lit, cv2.multiply(cv2.subtract(255.0, lit), white)))


def _spot(camera: FleetCamera, pano: Panorama, salt: str) -> tuple[int, int]:
    """A stable point on the ground of the camera's frame where its fire starts."""
    u = (seed_of(camera.camera_id, salt) % 1000) / 1000.0
    x = int(camera.width * (0.25 + 0.5 * u))
    return x, min(camera.height - 2, pano.geometry.ground_y + camera.height // 20)


def _flame(frame: np.ndarray, pano: Panorama, camera: FleetCamera, event: ScriptedEvent,
           rng: np.random.Generator) -> None:
    """Flickering tongues: red-orange outside, yellow-white core; a new shape every step."""
    x0, base = _spot(camera, pano, "fire")
    height = camera.height * 0.20 * (0.3 + 0.7 * event.intensity)
    width = height * 0.9
    n = 7
    xs = np.linspace(x0 - width / 2, x0 + width / 2, n)
    for layer, (colour, scale) in enumerate((((20, 70, 225), 1.0), ((30, 150, 255), 0.7), ((170, 235, 255), 0.4))):
        tops = base - height * scale * rng.uniform(0.45, 1.0, n) * np.sin(np.linspace(0.15, np.pi - 0.15, n))
        half = (xs - x0) * scale + x0
        points = [(int(half[0]), base)] + [(int(x), int(y)) for x, y in zip(half, tops)] + [(int(half[-1]), base)]
        cv2.fillPoly(frame, [np.array(points, np.int32)], colour, lineType=cv2.LINE_AA)


def _smoke(frame: np.ndarray, pano: Panorama, camera: FleetCamera, at: datetime, event: ScriptedEvent,
           rng: np.random.Generator) -> None:
    """A grey plume rising and drifting downwind, growing with the event's age."""
    h, w = frame.shape[:2]
    x0, base = _spot(camera, pano, "fire")
    age = max(0.0, (at - event.start).total_seconds())
    grow = min(1.0, 0.25 + age / SMOKE_GROWTH_S)
    top = int(base - h * 0.75 * grow)
    left, right = max(0, x0 - w // 6), min(w, x0 + w // 3)
    top = max(0, top)
    if base - top < 8 or right - left < 8:
        return
    small_h, small_w = max(4, (base - top) // 4), max(4, (right - left) // 4)
    mask = np.zeros((small_h, small_w), np.float32)
    drift = (age / 40.0) % 1.0
    for i in range(9):
        t = i / 8
        cx = (x0 - left) / 4 + t * small_w * 0.45 + rng.normal(0, 1.5) + drift * 3
        cy = small_h * (1 - t) + rng.normal(0, 1.0)
        cv2.circle(mask, (int(cx), int(cy)), int(2 + t * small_w * 0.25), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 2.5)
    alpha = cv2.resize(mask, (right - left, base - top))[..., None] * (0.35 + 0.35 * event.intensity)
    roi = frame[top:base, left:right]
    grey = np.float32(185)
    roi[...] = (roi.astype(np.float32) * (1 - alpha) + grey * alpha).astype(np.uint8)


def _water_rise(frame: np.ndarray, pano: Panorama, offset: int, at: datetime, event: ScriptedEvent) -> None:
    """River scenes: the surface climbs the marker. Other scenes: the ground floods from below."""
    h, w = frame.shape[:2]
    progress = min(1.0, max(0.0, (at - event.start).total_seconds()) / WATER_RISE_S) * event.intensity
    geo = pano.geometry
    if geo.water_y is not None and geo.marker_top_y is not None:
        rise = int(progress * 0.8 * (geo.water_y - geo.marker_top_y))
        if rise <= 0:
            return
        new_y = geo.water_y - rise
        band = pano.pixels[geo.water_y:geo.water_y + rise, offset:offset + w]
        level = float(frame[geo.water_y:geo.water_y + rise].mean()) / max(1.0, float(band.mean()))
        frame[new_y:geo.water_y] = cv2.multiply(band, (level, level, level, 0.0))
        return
    depth = int(progress * 0.35 * h)
    if depth > 0:
        muddy = frame[h - depth:h].astype(np.float32) * 0.25 + np.array([95, 110, 100], np.float32) * 0.75
        frame[h - depth:h] = muddy.astype(np.uint8)


def encode_jpeg(frame: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise ValueError(f"frame: OpenCV could not encode shape {frame.shape}")
    return data.tobytes()


def corrupt_jpeg(data: bytes, seed: int) -> bytes:
    """A JPEG as a broken encoder sends it: start marker and a header, then noise instead of tables and scan.

    No decoder can read it (there is no frame header), yet it is the size of a real frame.
    """
    rng = np.random.default_rng(seed)
    body = rng.integers(0, 256, max(0, len(data) - 20), dtype=np.uint8)
    body[body == 0xFF] = 0x00  # no accidental markers
    return data[:20] + body.tobytes()
