"""Analysis settings: one frozen object, validated on construction, passed to every call."""

from __future__ import annotations

from dataclasses import dataclass, fields

from vision.analysis.colour import ColourRules
from vision.analysis.errors import InvalidConfig

#: Bounds (inclusive) of every numeric setting; a value outside raises InvalidConfig.
_BOUNDS: dict[str, tuple[float, float]] = {
    "decode_width": (64, 4096),
    "work_width": (32, 1024),
    "blur_width": (64, 2048),
    "dark_luma": (0, 255),
    "dark_p99": (0, 255),
    "no_signal_std": (0.0, 255.0),
    "overexposed_share": (0.0, 1.0),
    "overexposed_luma": (0, 255),
    "overexposed_floor": (0, 255),
    "blur_sharpness": (0.0, 10.0),
    "blur_baseline_ratio": (0.0, 1.0),
    "night_luma": (0, 255),
    "covered_entropy": (0.0, 8.0),
    "covered_edge_density": (0.0, 1.0),
    "frozen_max_diff": (0.0, 255.0),
    "moved_correlation": (-1.0, 1.0),
    "moved_shift": (0.0, 1.0),
    "water_delta": (0, 442),
    "water_share": (0.0, 1.0),
    "flicker_reference": (0.0, 1.0),
    "motion_reference": (0.0, 255.0),
    "static_weight": (0.0, 1.0),
    "baseline_tau_s": (1.0, 30 * 86_400.0),
    "baseline_min_samples": (1, 10_000),
    "relearn_samples": (1, 1_000_000),
    "max_gap_s": (0.0, 86_400.0),
    "max_dark_s": (0.0, 7 * 86_400.0),
    "confirm_k": (1, 32),
    "confirm_n": (1, 32),
    "fault_confirm_k": (1, 32),
    "fault_confirm_n": (1, 32),
}


@dataclass(frozen=True)
class AnalysisConfig:
    decode_width: int = 320
    """JPEGs are reduced in the decoder to the smallest size at least this wide."""
    work_width: int = 160
    """Colour and classifier features are computed at this width."""
    blur_width: int = 320
    """Sharpness is measured at this width (blur hides if the image is shrunk too far)."""
    dark_luma: float = 35.0
    """Dark: mean luma below this ..."""
    dark_p99: float = 60.0
    """... and 99th-percentile luma below this (a street with lamps at night is not 'dark')."""
    no_signal_std: float = 0.1
    """Signal lost: a dark frame whose luma varies less than this (standard deviation at the blur width):
    digital black, not even sensor noise (a night scene has several grey levels; faint noise through
    JPEG keeps about 0.25). A fault day or night, unlike a dark scene."""
    overexposed_share: float = 0.45
    """Overexposed: this share of pixels clipped (luma >= overexposed_luma) ..."""
    overexposed_luma: float = 250.0
    overexposed_floor: float = 128.0
    """... and the darkest tenth of the frame at least this bright (washed out, not a white sky over dark ground)."""
    blur_sharpness: float = 0.12
    """Blurred, a single image (no camera history): contrast-normalised sharpness below this."""
    blur_baseline_ratio: float = 0.6
    """Blurred, a running camera: sharpness below this share of its own baseline sharpness."""
    night_luma: float = 55.0
    """Below this mean luma, blur and scene-move are not judged (low light, not a fault)."""
    covered_entropy: float = 5.0
    """Covered: luma entropy (bits) below this and ..."""
    covered_edge_density: float = 0.01
    """... share of edge pixels below this."""
    frozen_max_diff: float = 0.1
    """Frozen: mean absolute difference (grey levels) of the thumbnail vs the previous sample."""
    moved_correlation: float = 0.5
    """Moved: structure correlation with the baseline below this, or ..."""
    moved_shift: float = 0.12
    """... a shift against the baseline larger than this share of the frame."""
    water_roi: tuple[float, float, float, float] | None = None
    """Region (x, y, w, h as shares of the frame) watched for water; None = not watched."""
    water_delta: float = 30.0
    water_share: float = 0.35
    """Water rise: this share of the ROI moved more than water_delta (BGR distance) from the baseline colour."""
    flicker_reference: float = 0.2
    """Flame-colour area change between samples that counts as full flicker."""
    motion_reference: float = 4.0
    """Mean grey-level change in the smoke-coloured area that counts as full motion."""
    static_weight: float = 0.4
    """A fire/smoke score is multiplied by this when the region did not change at all."""
    baseline_tau_s: float = 1800.0
    """Time constant of the baseline's EMA: a healthy sample dt after the last weighs 1 - exp(-dt / tau)."""
    baseline_min_samples: int = 5
    relearn_samples: int = 360
    """After this many samples in a row with a scene fault, the baseline is learnt anew."""
    max_gap_s: float = 900.0
    """Samples further apart than this are not compared (flicker, motion, frozen)."""
    max_dark_s: float = 17 * 3600.0
    """A camera dark this long is faulty even if it went dark gradually (no night is longer here)."""
    confirm_k: int = 3
    confirm_n: int = 5
    """Fire, smoke, water: a finding is confirmed when seen in k of the last n samples."""
    fault_confirm_k: int = 3
    fault_confirm_n: int = 4
    classifier_cascade: bool = True
    """Skip the classifier when no probability could lift fire or smoke over its threshold
    (flicker and drift weights both below it): findings are identical either way. False
    runs it on every usable frame (benchmarks, checks)."""
    rules: ColourRules = ColourRules()

    def __post_init__(self) -> None:
        for field in fields(self):
            if field.name in _BOUNDS:
                value = getattr(self, field.name)
                low, high = _BOUNDS[field.name]
                if not low <= value <= high:
                    raise InvalidConfig(f"{field.name}={value!r} outside [{low}, {high}]")
        for k, n in (("confirm_k", "confirm_n"), ("fault_confirm_k", "fault_confirm_n")):
            if getattr(self, k) > getattr(self, n):
                raise InvalidConfig(f"{k}={getattr(self, k)} exceeds {n}={getattr(self, n)}")
        if self.water_roi is not None:
            x, y, w, h = self.water_roi
            if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x and 0 < h <= 1 - y):
                raise InvalidConfig(f"water_roi={self.water_roi!r} is not inside the unit square")
