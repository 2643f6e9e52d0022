"""Analysis settings are bounded (vision/analysis/config.py)."""

from __future__ import annotations

import pytest

from vision.analysis.config import AnalysisConfig
from vision.analysis.errors import InvalidConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [("work_width", 8), ("overexposed_share", 1.5), ("confirm_k", 0), ("baseline_tau_s", 0.0), ("water_delta", -1)],
)
def test_out_of_bounds_value_names_the_field_and_value(field: str, value: float) -> None:
    with pytest.raises(InvalidConfig, match=rf"{field}={value!r}"):
        AnalysisConfig(**{field: value})


def test_k_may_not_exceed_n() -> None:
    with pytest.raises(InvalidConfig, match="confirm_k=6 exceeds confirm_n=5"):
        AnalysisConfig(confirm_k=6, confirm_n=5)


@pytest.mark.parametrize("roi", [(0.5, 0.5, 0.6, 0.1), (-0.1, 0.0, 0.5, 0.5), (0.0, 0.0, 0.0, 0.5)])
def test_water_region_must_lie_in_the_frame(roi: tuple[float, float, float, float]) -> None:
    with pytest.raises(InvalidConfig, match="water_roi"):
        AnalysisConfig(water_roi=roi)


def test_defaults_are_valid() -> None:
    config = AnalysisConfig(water_roi=(0.0, 0.27, 1.0, 0.23))
    assert config.confirm_k <= config.confirm_n and config.fault_confirm_k <= config.fault_confirm_n
