"""Colour and texture features of one small frame: what the fire/smoke classifier sees.

Every frame is first shrunk to a fixed working width, so features (and their cost)
do not depend on the camera's resolution. :func:`planes_of` computes the colour
planes and masks once; the classifier features, health metrics and bounding
regions all read them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.analysis.colour import (
    ColourRules,
    fire_mask_rgb,
    fire_mask_ycbcr,
    smoke_mask,
)

_BANDS = ("top", "middle", "bottom")
_HUE_BINS = 9

FEATURE_NAMES: tuple[str, ...] = (
    # flame-colour pixels
    "fire_rgb_frac", "fire_ycbcr_frac", "fire_frac", "fire_v_mean", "fire_v_std", "fire_s_mean",
    "fire_h_mean", "fire_crcb_mean", "fire_hot_frac", "fire_core_adjacent", "fire_texture",
    "fire_centroid_y", "fire_fill", "fire_perimeter", "fire_ring_contrast", "fire_tile_max", "fire_tile_std",
    "fire_tiles", "fire_bright_saturated",
    # smoke-coloured pixels
    "smoke_frac", "smoke_v_mean", "smoke_v_std", "smoke_texture", "smoke_blue", "smoke_dark_channel",
    "smoke_centroid_y",
    # whole frame
    "v_mean", "gray_std", "s_mean", "colourfulness", "edge_mean", "lap_norm", "dark_channel_mean",
    "dark_frac", "bright_frac", "entropy",
    # horizontal bands
    *(f"{band}_{what}" for band in _BANDS for what in ("v", "s", "fire", "smoke", "edge")),
    # histograms
    *(f"hue_{i}" for i in range(_HUE_BINS)),
    *(f"sat_{i}" for i in range(4)),
    *(f"val_{i}" for i in range(4)),
    *(f"warm_v{v}_s{s}" for v in range(4) for s in range(2)),
    *(f"chroma_r{r}_g{g}" for r in range(3) for g in range(3)),
)
_TILES = 4
FIRE_SHARE = FEATURE_NAMES.index("fire_frac")
"""Index of the flame-coloured share of the frame (the colour-rule baseline's score)."""
SMOKE_SHARE = FEATURE_NAMES.index("smoke_frac")
"""Index of the smoke-coloured share of the frame."""


@dataclass(frozen=True, eq=False)
class Planes:
    """One working-size frame split into the planes and masks the analysis reads."""

    bgr: np.ndarray
    hsv: np.ndarray
    ycrcb: np.ndarray
    bgr_planes: tuple[np.ndarray, ...]
    hsv_planes: tuple[np.ndarray, ...]
    """The channels of ``bgr`` and ``hsv`` as contiguous planes (numpy is ~4x faster on them than on strided views)."""
    gray: np.ndarray
    """Luma (the Y plane), uint8."""
    edges: np.ndarray
    """Sobel gradient magnitude of the luma, float32."""
    gray_hist: np.ndarray
    """256-bin histogram of the luma."""
    fire: np.ndarray
    """Pixels that pass both flame-colour rules."""
    fire_rgb: np.ndarray
    fire_ycbcr: np.ndarray
    smoke: np.ndarray
    """Pixels that pass the smoke-colour rule."""


def work_image(pixels: np.ndarray, width: int) -> np.ndarray:
    """Shrink (never enlarge) a BGR image to ``width`` pixels wide, keeping its aspect (area average)."""
    height, current = pixels.shape[:2]
    if current <= width:
        return pixels
    factor, remainder = divmod(current, width)
    if factor % 2 and factor > 1 and not remainder and height % factor == 0:
        # Whole blocks: a box mean per block is the same area average (identical bytes for odd factors,
        # whose means never round a tie), ~1.5x cheaper than OpenCV's general INTER_AREA path.
        blocks = cv2.boxFilter(pixels, -1, (factor, factor), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
        return np.ascontiguousarray(blocks[::factor, ::factor])
    new_height = max(1, round(height * width / current))
    return cv2.resize(pixels, (width, new_height), interpolation=cv2.INTER_AREA)


def planes_of(bgr: np.ndarray, rules: ColourRules = ColourRules()) -> Planes:
    """Colour planes, gradients and colour-rule masks of a working-size BGR image."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    ycrcb = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)
    bgr_planes, hsv_planes = tuple(cv2.split(bgr)), tuple(cv2.split(hsv))
    gray, cr, cb = cv2.split(ycrcb)
    b, g, r = bgr_planes
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    fire_rgb = fire_mask_rgb(b, g, r, hsv_planes[1], rules)
    fire_ycbcr = fire_mask_ycbcr(gray, cr, cb, rules)
    return Planes(
        bgr=bgr,
        hsv=hsv,
        ycrcb=ycrcb,
        bgr_planes=bgr_planes,
        hsv_planes=hsv_planes,
        gray=gray,
        edges=cv2.magnitude(gx, gy),
        gray_hist=luma_histogram(gray),
        fire=fire_rgb & fire_ycbcr,
        fire_rgb=fire_rgb,
        fire_ycbcr=fire_ycbcr,
        smoke=smoke_mask(b, g, r, rules),
    )


def luma_histogram(gray: np.ndarray) -> np.ndarray:
    """256-bin histogram of a uint8 plane (float32 counts)."""
    return cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()


def entropy_bits(gray: np.ndarray, hist: np.ndarray | None = None) -> float:
    """Shannon entropy of the 256-bin luma histogram, in bits (0 = uniform image, 8 = max)."""
    hist = luma_histogram(gray) if hist is None else hist
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def colourfulness(bgr: np.ndarray, bgr_planes: tuple[np.ndarray, ...] = ()) -> float:
    """Hasler & Suesstrunk 2003 colourfulness metric M (0 = grey; ~100+ = very colourful).

    ``bgr_planes``: the image already split into contiguous planes, if at hand.
    """
    b, g, r = (plane.astype(np.float32) for plane in bgr_planes or cv2.split(bgr))  # contiguous planes convert faster
    (rg_mean, rg_std) = _mean_std(r - g)
    (yb_mean, yb_std) = _mean_std(0.5 * (r + g) - b)
    return float(np.hypot(rg_std, yb_std) + 0.3 * np.hypot(rg_mean, yb_mean))


def _centroid_y(rows: np.ndarray, count: int) -> float:
    """Mean row of a mask's pixels as a share of the height, from its per-row pixel counts."""
    if not count:
        return 0.0
    return float(rows @ np.arange(len(rows))) / (count * max(1, len(rows) - 1))


def _fill(mask: np.ndarray, count: int) -> float:
    """Share of the mask's bounding box that the mask covers (compact blob = 1)."""
    if not count:
        return 0.0
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return count / float(w * h)


def _mean_std(plane: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    mean, std = cv2.meanStdDev(plane, mask=mask)
    return float(mean[0, 0]), float(std[0, 0])


def feature_vector(p: Planes) -> np.ndarray:
    """The classifier's input: float32 values in the order of :data:`FEATURE_NAMES`.

    Reductions use OpenCV's masked means (one pass in C++) rather than numpy boolean indexing.
    """
    h, s, v = p.hsv_planes
    pixels = float(p.gray.size)
    edge_mean = cv2.mean(p.edges)[0]
    laplacian = np.abs(cv2.Laplacian(p.gray, cv2.CV_16S, ksize=1))  # exact in int16; here, not in planes: only features read it
    lap_mean = cv2.mean(laplacian)[0]
    b, g, r = p.bgr_planes
    dark_channel = cv2.erode(cv2.min(cv2.min(b, g), r), np.ones((5, 5), np.uint8))

    # Pixels per row of each mask: the counts, centroids and band shares all read them.
    row_fire, row_smoke = (cv2.reduce(mask.view(np.uint8), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
                           for mask in (p.fire, p.smoke))
    fire, n_fire = p.fire, int(row_fire.sum())
    fire_u8 = fire.view(np.uint8)
    hot = (v > 230) & (s < 110)
    near_hot = cv2.dilate(hot.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    if n_fire:
        fire_h, fire_s, fire_v, _ = cv2.mean(p.hsv, mask=fire_u8)
        _, fire_v_std = _mean_std(v, fire_u8)
        _, fire_cr, fire_cb, _ = cv2.mean(p.ycrcb, mask=fire_u8)
        fire_texture = cv2.mean(laplacian, mask=fire_u8)[0] / (lap_mean + 1.0)
    else:
        fire_h = fire_s = fire_v = fire_v_std = fire_cr = fire_cb = fire_texture = 0.0
    fire_feats = [
        np.count_nonzero(p.fire_rgb) / pixels,
        np.count_nonzero(p.fire_ycbcr) / pixels,
        n_fire / pixels,
        fire_v / 255.0,
        fire_v_std / 255.0,
        fire_s / 255.0,
        fire_h / 180.0,
        (fire_cr - fire_cb) / 255.0,
        np.count_nonzero(fire & hot) / max(1, n_fire),
        np.count_nonzero(fire & near_hot) / max(1, n_fire),
        fire_texture,
        _centroid_y(row_fire, n_fire),
        _fill(fire, n_fire),
        *_shape_features(fire, n_fire, v),
        np.count_nonzero(fire & (v > 200) & (s > 150)) / pixels,
    ]

    smoke, n_smoke = p.smoke, int(row_smoke.sum())
    smoke_u8 = smoke.view(np.uint8)
    if n_smoke:
        smoke_v, smoke_v_std = _mean_std(v, smoke_u8)
        smoke_b, _, smoke_r, _ = cv2.mean(p.bgr, mask=smoke_u8)
        smoke_texture = cv2.mean(p.edges, mask=smoke_u8)[0] / (edge_mean + 1.0)
        smoke_dark = cv2.mean(dark_channel, mask=smoke_u8)[0]
    else:
        smoke_v = smoke_v_std = smoke_b = smoke_r = smoke_texture = smoke_dark = 0.0
    smoke_feats = [
        n_smoke / pixels,
        smoke_v / 255.0,
        smoke_v_std / 255.0,
        smoke_texture,
        (smoke_b - smoke_r) / 32.0,
        smoke_dark / 255.0,
        _centroid_y(row_smoke, n_smoke),
    ]

    # Per-row sums, summed again per band and for the whole frame: a few calls instead of one per band.
    row_hsv = cv2.reduce(p.hsv, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).reshape(-1, 3)  # integer sums: exact
    row_edges = cv2.reduce(p.edges, 1, cv2.REDUCE_SUM, dtype=cv2.CV_64F).ravel()
    _, s_mean, v_mean = row_hsv.sum(axis=0) / pixels
    _, gray_std = _mean_std(p.gray)
    global_feats = [
        v_mean / 255.0,
        gray_std / 128.0,
        s_mean / 255.0,
        colourfulness(p.bgr, p.bgr_planes) / 100.0,
        edge_mean / 100.0,
        lap_mean / (gray_std + 1.0),
        cv2.mean(dark_channel)[0] / 255.0,
        np.count_nonzero(v < 40) / pixels,
        np.count_nonzero(v > 240) / pixels,
        entropy_bits(p.gray, p.gray_hist) / 8.0,
    ]

    band_feats: list[float] = []
    height = p.gray.shape[0]
    bounds = [round(i * height / len(_BANDS)) for i in range(len(_BANDS) + 1)]
    for top, bottom in zip(bounds[:-1], bounds[1:]):
        band = slice(top, max(bottom, top + 1))
        band_pixels = float(p.gray[band].size)
        _, band_s, band_v = row_hsv[band].sum(axis=0) / band_pixels
        band_feats += [
            band_v / 255.0,
            band_s / 255.0,
            row_fire[band].sum() / band_pixels,
            row_smoke[band].sum() / band_pixels,
            row_edges[band].sum() / band_pixels / 100.0,
        ]

    chromatic = ((s > 40) & (v > 40)).view(np.uint8)
    hue_hist = cv2.calcHist([h], [0], chromatic, [_HUE_BINS], [0, 180]).ravel() / pixels
    sat_hist = cv2.calcHist([s], [0], None, [4], [0, 256]).ravel() / pixels
    val_hist = cv2.calcHist([v], [0], None, [4], [0, 256]).ravel() / pixels
    warm = (((h < 30) | (h > 170)) & (s > 60)).view(np.uint8)
    warm_hist = cv2.calcHist([v, s], [0, 1], warm, [4, 2], [0, 256, 0, 256]).ravel() / pixels
    return np.concatenate(
        [
            np.asarray(fire_feats + smoke_feats + global_feats + band_feats, np.float32),
            hue_hist,
            sat_hist,
            val_hist,
            warm_hist,
            _chromaticity_hist(p.bgr_planes),
        ]
    ).astype(np.float32)


def _shape_features(mask: np.ndarray, count: int, v: np.ndarray) -> list[float]:
    """Boundary share, contrast with the surrounding ring, and how concentrated the mask is in tiles."""
    if not count:
        return [0.0] * 5
    kernel = np.ones((3, 3), np.uint8)
    as_u8 = mask.view(np.uint8)
    boundary = count - int(np.count_nonzero(cv2.erode(as_u8, kernel)))
    ring = cv2.dilate(as_u8, kernel, iterations=2).view(bool) & ~mask
    inside_v = cv2.mean(v, mask=as_u8)[0]
    ring_v = cv2.mean(v, mask=ring.view(np.uint8))[0] if ring.any() else inside_v
    rows, cols = mask.shape
    if rows >= _TILES and cols >= _TILES:
        tiles = cv2.resize(as_u8.astype(np.float32), (_TILES, _TILES), interpolation=cv2.INTER_AREA)
    else:
        tiles = np.array([[count / mask.size]])
    return [
        boundary / count,
        (inside_v - ring_v) / 255.0,
        float(tiles.max()),
        float(cv2.meanStdDev(tiles)[1][0, 0]),
        float(np.count_nonzero(tiles > 0.05)) / tiles.size,
    ]


def _chromaticity_hist(bgr_planes: tuple[np.ndarray, ...]) -> np.ndarray:
    """3x3 histogram of chromaticity r = R/(R+G+B), g = G/(R+G+B) in bins of 0.25 over [0, 0.75).

    Bin edges are compared in integers (4R >= S means r >= 0.25), so no division is needed.
    """
    b, g, r = (plane.astype(np.uint16) for plane in bgr_planes)
    total = b + g + r
    r4, g4 = 4 * r, 4 * g
    r_bin = (r4 >= total).view(np.uint8) + (2 * r >= total).view(np.uint8)
    g_bin = (g4 >= total).view(np.uint8) + (2 * g >= total).view(np.uint8)
    inside = ((r4 < 3 * total) & (g4 < 3 * total)).view(np.uint8)
    counts = cv2.calcHist([r_bin * np.uint8(3) + g_bin], [0], inside, [9], [0, 9]).ravel()
    return counts / b.size
