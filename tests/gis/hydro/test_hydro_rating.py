"""Rating curves Q = a (h - h0)^b and the bundled sample configuration."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.hydro.config import load_config
from gis.hydro.errors import HydroConfigError, HydroError
from gis.hydro.rating import RatingCurve


def test_flow_and_stage_by_the_formula() -> None:
    curve = RatingCurve("g", a=10.0, h0=1.0, b=2.0)
    assert curve.flow(4.0) == pytest.approx(90.0)  # 10 * 3^2
    assert curve.stage(90.0) == pytest.approx(4.0)
    assert curve.flow(0.5) == 0.0 and curve.stage(0.0) == 1.0


@given(
    a=st.floats(1.0, 5000.0), h0=st.floats(-2.0, 2.0), b=st.floats(1.0, 3.0), depth=st.floats(0.01, 20.0)
)
def test_stage_inverts_flow_and_flow_rises_with_stage(a: float, h0: float, b: float, depth: float) -> None:
    curve = RatingCurve("g", a, h0, b)
    q = curve.flow(h0 + depth)
    assert curve.stage(q) == pytest.approx(h0 + depth, rel=1e-9, abs=1e-9)
    assert curve.flow(h0 + depth + 0.01) > q


@pytest.mark.parametrize(("a", "h0", "b", "field"), [(0.0, 0.0, 1.5, "a"), (1.0, 0.0, -1.0, "b"), (1.0, float("nan"), 1.5, "h0")])
def test_bad_curves_are_refused_naming_the_field(a: float, h0: float, b: float, field: str) -> None:
    with pytest.raises(HydroConfigError, match=f"rating of g: {field} must be"):
        RatingCurve("g", a, h0, b)


def test_negative_flow_has_no_stage() -> None:
    with pytest.raises(HydroError, match="flow must be >= 0 m3/s, got -1"):
        RatingCurve("g", 1.0, 0.0, 1.5).stage(-1.0)


def test_every_sample_gauge_has_a_curve_that_orders_its_thresholds() -> None:
    config = load_config()
    assert set(config.ratings) == set(config.gauges)
    for gauge_id, gauge in config.gauges.items():
        curve = config.ratings[gauge_id]
        assert 0 < curve.flow(gauge.warning_m) < curve.flow(gauge.guaranteed_m) < curve.flow(gauge.record_m)
