"""Base scenes of the simulated cameras: forest, river bank, street and square.

A scene is drawn once as a panorama 1.5x as wide as the camera's frame; each
camera looks at the panorama through its own horizontal offset (a numpy view,
no copy), so 5,000 cameras share a few dozen panoramas and memory stays small.
Texture is low-frequency noise (a small random grid resized up), so scenes
have sky gradients, foliage, ripples and paving without any image files.
Everything here is a pure function of (kind, variant, size).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import cv2
import numpy as np

PANORAMA_FACTOR = 1.5
"""Panorama width / frame width: how far cameras of one scene may look apart."""


class SceneKind(enum.StrEnum):
    FOREST = "forest"
    RIVER = "river"
    STREET = "street"
    SQUARE = "square"


@dataclass(frozen=True)
class SceneGeometry:
    """Where things are in the panorama (rows and columns in pixels)."""

    horizon_y: int
    """Row where sky meets land."""
    ground_y: int
    """Row where the near ground (a fire's footing) starts."""
    water_y: int | None
    """Normal water surface row (river scenes only)."""
    marker_x: int | None
    """Left column of the riverside water-level marker (river scenes only)."""
    marker_top_y: int | None
    marker_bottom_y: int | None


@dataclass(frozen=True, eq=False)
class Panorama:
    kind: SceneKind
    variant: int
    pixels: np.ndarray
    """uint8 BGR, shape (height, panorama width, 3)."""
    geometry: SceneGeometry


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Values in [0, 1] that vary smoothly over about ``cell`` pixels."""
    grid = rng.random((max(2, height // cell + 2), max(2, width // cell + 2)), dtype=np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Multi-scale noise in [0, 1] (coarse shapes plus fine grain)."""
    coarse = _smooth_noise(rng, height, width, 48)
    medium = _smooth_noise(rng, height, width, 12)
    fine = rng.random((height, width), dtype=np.float32)
    return 0.5 * coarse + 0.35 * medium + 0.15 * fine


def _paint(canvas: np.ndarray, rows: slice, base_bgr: tuple[int, int, int], spread_bgr: tuple[int, int, int],
           texture: np.ndarray) -> None:
    """Fill ``rows`` with a colour modulated by ``texture`` (per channel spread)."""
    t = texture[rows][..., None]
    base = np.array(base_bgr, np.float32)
    spread = np.array(spread_bgr, np.float32)
    canvas[rows] = np.clip(base + (t - 0.5) * 2.0 * spread, 0, 255)


def _sky(canvas: np.ndarray, horizon: int, rng: np.random.Generator) -> None:
    height, width = horizon, canvas.shape[1]
    top = np.array([175, 120, 60], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32)
    bottom = np.array([235, 210, 185], np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky = top * (1 - ramp) + bottom * ramp
    clouds = _smooth_noise(rng, height, width, 64)
    clouds = np.clip((clouds - 0.55) * 3.0, 0.0, 1.0)[..., None]
    canvas[:horizon] = sky * (1 - 0.6 * clouds) + 245.0 * 0.6 * clouds


def _skyline(rng: np.random.Generator, width: int, base_y: int, amplitude: float) -> np.ndarray:
    """A row index per column: hills or tree tops above ``base_y``."""
    x = np.arange(width, dtype=np.float32)
    y = np.full(width, float(base_y), np.float32)
    for period, weight in ((width / 2.0, 1.0), (width / 7.0, 0.4), (37.0, 0.15), (9.0, 0.1)):
        y -= amplitude * weight * (0.5 + 0.5 * np.sin(2 * np.pi * x / period + rng.uniform(0, 6.3)))
    return y.astype(np.int32)


def _fill_below(canvas: np.ndarray, tops: np.ndarray, bottom: int, colour: np.ndarray) -> None:
    rows = np.arange(canvas.shape[0])[:, None]
    mask = (rows >= tops[None, :]) & (rows < bottom)
    canvas[mask] = colour[mask]


def _forest(canvas: np.ndarray, rng: np.random.Generator) -> SceneGeometry:
    h, w = canvas.shape[:2]
    horizon = int(h * rng.uniform(0.30, 0.42))
    _sky(canvas, horizon + h // 10, rng)
    tex = _texture(rng, h, w)
    hills = np.empty_like(canvas)
    _paint(hills, slice(0, h), (95, 110, 90), (15, 15, 15), tex)
    _fill_below(canvas, _skyline(rng, w, horizon, h * 0.08), h, hills)
    trees = np.empty_like(canvas)
    _paint(trees, slice(0, h), (40, 85, 45), (30, 45, 30), _texture(rng, h, w))
    ground = int(horizon + h * 0.12)
    _fill_below(canvas, _skyline(rng, w, ground, h * 0.10), h, trees)
    floor_y = int(h * 0.80)
    _paint(canvas, slice(floor_y, h), (60, 95, 105), (25, 30, 30), tex)
    return SceneGeometry(horizon, ground, None, None, None, None)


def _river(canvas: np.ndarray, rng: np.random.Generator) -> SceneGeometry:
    h, w = canvas.shape[:2]
    horizon = int(h * rng.uniform(0.30, 0.38))
    _sky(canvas, horizon + h // 20, rng)
    far_bank = np.empty_like(canvas)
    _paint(far_bank, slice(0, h), (60, 95, 70), (20, 30, 20), _texture(rng, h, w))
    _fill_below(canvas, _skyline(rng, w, horizon, h * 0.05), h, far_bank)
    water_y = int(h * 0.50)
    bank_y = int(h * 0.78)
    ripples = _smooth_noise(rng, h, w // 4, 6)
    ripples = cv2.resize(ripples, (w, h), interpolation=cv2.INTER_LINEAR)
    _paint(canvas, slice(water_y, bank_y), (120, 105, 80), (25, 20, 15), ripples)
    _paint(canvas, slice(bank_y, h), (80, 120, 140), (25, 30, 30), _texture(rng, h, w))
    # water-level marker: a white post with red bands, standing in the water at the bank
    # water-level marker: a white post with red bands standing in the river; below the
    # surface it is hidden, so rising water visibly swallows its bands
    marker_x = int(w * 0.62)
    marker_w = max(8, w // 70)
    top = int(h * 0.26)
    canvas[top:water_y, marker_x:marker_x + marker_w] = (235, 235, 235)
    band = max(3, (water_y - top) // 10)
    for y in range(top, water_y, 2 * band):
        canvas[y:min(y + band, water_y), marker_x:marker_x + marker_w] = (40, 40, 200)
    return SceneGeometry(horizon, bank_y, water_y, marker_x, top, water_y)


def _buildings(canvas: np.ndarray, rng: np.random.Generator, base_y: int, max_height: int) -> None:
    h, w = canvas.shape[:2]
    x = 0
    while x < w:
        bw = int(rng.integers(w // 20, w // 8))
        bh = int(rng.integers(max_height // 3, max_height))
        shade = rng.integers(120, 200)
        colour = (int(shade), int(shade - rng.integers(0, 20)), int(shade - rng.integers(0, 40)))
        cv2.rectangle(canvas, (x, base_y - bh), (x + bw, base_y), colour, -1)
        step = max(8, bw // 6)
        for wy in range(base_y - bh + 6, base_y - 8, step):
            for wx in range(x + 4, x + bw - 8, step):
                glass = int(rng.integers(70, 120))
                cv2.rectangle(canvas, (wx, wy), (wx + step // 2, wy + step // 2), (glass + 20, glass, glass - 20), -1)
        x += bw + int(rng.integers(0, w // 40))


def _street(canvas: np.ndarray, rng: np.random.Generator) -> SceneGeometry:
    h, w = canvas.shape[:2]
    horizon = int(h * rng.uniform(0.40, 0.48))
    _sky(canvas, horizon, rng)
    _buildings(canvas, rng, horizon, int(h * 0.35))
    _paint(canvas, slice(horizon, h), (95, 95, 100), (20, 20, 20), _texture(rng, h, w))
    for side in (-1, 1):  # kerbs converging to the vanishing point
        cv2.line(canvas, (w // 2, horizon), (w // 2 + side * w, h), (170, 170, 175), max(2, h // 120))
    for i in range(1, 8):  # dashed centre line in perspective
        y0 = horizon + (h - horizon) * (i / 8) ** 1.6
        y1 = horizon + (h - horizon) * ((i + 0.5) / 8) ** 1.6
        cv2.line(canvas, (w // 2, int(y0)), (w // 2, int(y1)), (220, 220, 225), max(1, int(i * h / 360)))
    return SceneGeometry(horizon, int(horizon + (h - horizon) * 0.3), None, None, None, None)


def _square(canvas: np.ndarray, rng: np.random.Generator) -> SceneGeometry:
    h, w = canvas.shape[:2]
    horizon = int(h * rng.uniform(0.35, 0.42))
    _sky(canvas, horizon, rng)
    _buildings(canvas, rng, horizon, int(h * 0.22))
    _paint(canvas, slice(horizon, h), (150, 160, 170), (20, 20, 20), _texture(rng, h, w))
    tile = max(8, h // 24)
    for y in range(horizon, h, tile):
        cv2.line(canvas, (0, y), (w, y), (125, 135, 145), 1)
    for x in range(0, w, tile * 2):
        cv2.line(canvas, (w // 2 + (x - w // 2) // 3, horizon), (x, h), (125, 135, 145), 1)
    for _ in range(4):  # a few trees in planters
        cx, cy = int(rng.integers(0, w)), int(rng.integers(horizon + h // 10, h - h // 8))
        radius = int(rng.integers(h // 20, h // 10))
        cv2.circle(canvas, (cx, cy - radius), radius, (50, 110, 60), -1)
        cv2.rectangle(canvas, (cx - radius // 5, cy - radius), (cx + radius // 5, cy), (40, 60, 80), -1)
    return SceneGeometry(horizon, int(horizon + (h - horizon) * 0.3), None, None, None, None)


_PAINTERS = {SceneKind.FOREST: _forest, SceneKind.RIVER: _river, SceneKind.STREET: _street, SceneKind.SQUARE: _square}


def render_panorama(kind: SceneKind, variant: int, width: int, height: int) -> Panorama:
    """The panorama cameras of ``kind`` with frames ``width`` x ``height`` look at."""
    pano_w = int(width * PANORAMA_FACTOR)
    seed = (list(SceneKind).index(kind), variant, width, height)
    rng = np.random.default_rng(seed)
    canvas = np.zeros((height, pano_w, 3), np.uint8)
    geometry = _PAINTERS[kind](canvas, rng)
    canvas.setflags(write=False)
    return Panorama(kind, variant, canvas, geometry)


def view_of(panorama: Panorama, offset_x: int, width: int) -> np.ndarray:
    """The camera's frame inside ``panorama`` (a read-only view, not a copy)."""
    return panorama.pixels[:, offset_x:offset_x + width]
