"""Image-level camera health: dark, signal lost, overexposed, blurred, covered. Pure, per frame.

Sharpness is the contrast-normalised mean absolute Laplacian (after Pech-Pacheco
et al. 2000, "Diatom autofocusing in brightfield microscopy", who use the
Laplacian's variance) measured at a fixed width, so a 640x360 and a 1280x720
camera of the same scene give the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.features import entropy_bits, luma_histogram

_EDGE_LEVEL = 40.0
"""Sobel magnitude that counts a pixel as an edge (grey levels per pixel x 4)."""


@dataclass(frozen=True)
class HealthMetrics:
    luma_mean: float
    luma_p10: float
    """Luma below which the darkest tenth of the frame lies."""
    luma_p99: float
    clipped_share: float
    """Share of pixels at or above the overexposed luma."""
    luma_std: float
    """Standard deviation of luma at the blur width (0 for a flat frame; sensor noise alone gives more)."""
    sharpness: float
    """Mean |Laplacian| / (luma std + 1) at the blur width; ~0.3-1 sharp, < 0.1 defocused."""
    edge_density: float
    """Share of pixels whose gradient magnitude exceeds an edge level."""
    entropy: float
    """Luma histogram entropy in bits."""


@dataclass(frozen=True)
class HealthFlags:
    dark: bool
    overexposed: bool
    blurred: bool
    covered: bool
    night: bool
    """Too little light to judge blur or scene movement (not a fault by itself)."""
    no_signal: bool = False
    """Dark and flat, without even sensor noise: the camera sends black (signal lost), a fault day or night."""

    @property
    def blank(self) -> bool:
        """Nothing but the fault (or the dark) shows: no fire, smoke, water, blur or move can be judged."""
        return self.dark or self.overexposed or self.covered


def _fine_detail(gray: np.ndarray, width: int) -> tuple[float, float]:
    """Mean absolute Laplacian and luma standard deviation of a luma image at ``width`` pixels wide."""
    if gray.shape[1] > width:
        gray = cv2.resize(gray, (width, max(1, round(gray.shape[0] * width / gray.shape[1]))), interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(gray, cv2.CV_16S, ksize=1)
    _, std = cv2.meanStdDev(gray)
    return cv2.mean(np.abs(lap))[0], float(std[0, 0])


def sharpness_of(gray: np.ndarray, width: int) -> float:
    """Contrast-normalised mean absolute Laplacian of a luma image at ``width`` pixels wide."""
    lap, std = _fine_detail(gray, width)
    return lap / (std + 1.0)


def health_metrics(
    gray_full: np.ndarray,
    gray_work: np.ndarray,
    edges_work: np.ndarray,
    config: AnalysisConfig,
    hist: np.ndarray | None = None,
) -> HealthMetrics:
    """Metrics of one frame: ``gray_full`` at decode size, the others (and ``hist``) at the working size."""
    hist = luma_histogram(gray_work) if hist is None else hist
    cumulative = np.cumsum(hist) / hist.sum()
    lap, std = _fine_detail(gray_full, config.blur_width)
    return HealthMetrics(
        luma_mean=cv2.mean(gray_work)[0],  # exact for uint8, as numpy's mean
        luma_p10=float(np.searchsorted(cumulative, 0.10)),
        luma_p99=float(np.searchsorted(cumulative, 0.99)),
        clipped_share=float(hist[int(config.overexposed_luma):].sum() / hist.sum()),
        luma_std=std,
        sharpness=lap / (std + 1.0),
        edge_density=float(np.count_nonzero(edges_work > _EDGE_LEVEL)) / edges_work.size,
        entropy=entropy_bits(gray_work, hist),
    )


def health_flags(m: HealthMetrics, config: AnalysisConfig, baseline_sharpness: float | None = None) -> HealthFlags:
    """Faults visible in one frame; blur is judged against the camera's baseline when there is one."""
    dark = m.luma_mean < config.dark_luma and m.luma_p99 < config.dark_p99
    night = m.luma_mean < config.night_luma
    # Clipped and washed out: even the darkest tenth is pale (a white sky over a dark landscape is not overexposure).
    overexposed = m.clipped_share >= config.overexposed_share and m.luma_p10 >= config.overexposed_floor
    covered = m.entropy < config.covered_entropy and m.edge_density < config.covered_edge_density
    too_soft = m.sharpness < config.blur_sharpness
    if baseline_sharpness is not None:
        too_soft = too_soft or m.sharpness < config.blur_baseline_ratio * baseline_sharpness
    return HealthFlags(
        dark=dark,
        overexposed=overexposed,
        blurred=too_soft and not night and not dark and not covered,
        covered=covered and not dark and not overexposed,
        night=night,
        no_signal=dark and m.luma_std < config.no_signal_std,
    )
