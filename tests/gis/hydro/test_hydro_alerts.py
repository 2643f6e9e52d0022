"""Threshold colours with hysteresis; forecast alerts with lead time, cells and lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.hydro.alerts import (
    AlertAction,
    CellExposure,
    ForecastAlert,
    Thresholds,
    cameras_to_raise,
    flooded_cells,
    forecast_alert,
    level_colour,
    load_exposures,
    reconcile,
    stage_colour,
)
from gis.hydro.errors import HydroConfigError
from gis.hydro.forecast import GaugeForecast
from gis.registry import load_gauges
from stream.schemas import Colour

T = Thresholds("hlj-heihe", warning_m=7.3, guaranteed_m=8.6, record_m=9.6, approach_margin_m=0.5, hysteresis_m=0.1)
NOW = datetime(2024, 8, 5, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("stage", "colour"),
    [(6.0, Colour.GREEN), (6.8, Colour.BLUE), (7.29, Colour.BLUE), (7.3, Colour.YELLOW), (8.6, Colour.ORANGE),
     (9.59, Colour.ORANGE), (9.6, Colour.RED), (12.0, Colour.RED)],
)
def test_levels_as_in_domain_md(stage: float, colour: Colour) -> None:
    assert level_colour(stage, T) is colour


def test_colour_rises_at_once_and_falls_only_below_the_hysteresis() -> None:
    c = stage_colour(7.31, T, Colour.BLUE)
    assert c is Colour.YELLOW
    c = stage_colour(7.25, T, c)  # 5 cm below warning: held
    assert c is Colour.YELLOW
    c = stage_colour(7.19, T, c)  # more than 10 cm below: falls to blue
    assert c is Colour.BLUE
    assert stage_colour(6.0, T, Colour.RED) is Colour.GREEN  # a big fall drops straight to its level
    assert stage_colour(9.55, T, Colour.RED) is Colour.RED


@given(stages=st.lists(st.floats(5.0, 11.0), min_size=1, max_size=40))
def test_colour_never_below_the_level_nor_above_the_level_plus_hysteresis(stages: list[float]) -> None:
    colour = Colour.GREEN
    for s in stages:
        colour = stage_colour(s, T, colour)
        assert level_colour(s, T).rank <= colour.rank <= level_colour(s + T.hysteresis_m, T).rank


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(HydroConfigError, match="warning <= guaranteed <= record"):
        Thresholds("g", 8.0, 7.0, 9.0)


CELLS = {
    "c-low": CellExposure("hlj-heihe", 7.0),
    "c-mid": CellExposure("hlj-heihe", 7.8),
    "c-high": CellExposure("hlj-heihe", 8.5),
    "c-other": CellExposure("hlj-aihui", 6.0),
}


def _fc(stage: float, arrival_h: float = 30.0) -> GaugeForecast:
    arrival = NOW + timedelta(hours=arrival_h)
    return GaugeForecast("hlj-heihe", "hlj-huma", NOW, arrival, arrival - timedelta(hours=4), arrival + timedelta(hours=4),
                         stage, stage - 0.3, stage + 0.3, 15000.0)


def test_forecast_alert_names_lead_time_colour_and_the_cells_below_the_stage() -> None:
    alert = forecast_alert(_fc(8.0), T, CELLS, NOW)
    assert alert == ForecastAlert("hlj-heihe", Colour.YELLOW, 8.0, NOW + timedelta(hours=30), 30.0, ("c-low", "c-mid"))
    assert forecast_alert(_fc(7.0), T, CELLS, NOW) is None  # below the warning level
    assert forecast_alert(_fc(7.0), T, CELLS, NOW, min_colour=Colour.BLUE) is not None
    assert flooded_cells("hlj-aihui", 6.5, CELLS) == ("c-other",)


def test_lifecycle_raise_update_keep_cancel() -> None:
    first = forecast_alert(_fc(8.0), T, CELLS, NOW)
    assert reconcile(None, first) is AlertAction.RAISE
    assert reconcile(first, forecast_alert(_fc(8.02), T, CELLS, NOW)) is AlertAction.KEEP
    assert reconcile(first, forecast_alert(_fc(8.6), T, CELLS, NOW)) is AlertAction.UPDATE  # orange, more cells
    assert reconcile(first, forecast_alert(_fc(8.0, arrival_h=33), T, CELLS, NOW)) is AlertAction.UPDATE
    assert reconcile(first, forecast_alert(_fc(7.1), T, CELLS, NOW)) is AlertAction.CANCEL
    assert reconcile(None, None) is AlertAction.KEEP


def test_cameras_of_the_affected_cells() -> None:
    cams = {"c-low": ["cam-2", "cam-1"], "c-mid": ["cam-2"], "c-high": ["cam-9"]}
    assert cameras_to_raise(("c-low", "c-mid"), cams) == ("cam-1", "cam-2")


def test_sample_cells_carry_their_gauge_and_inundation_stage() -> None:
    exposures = load_exposures()
    gauges = {g.gauge_id for g in load_gauges()}
    assert exposures and {e.gauge_id for e in exposures.values()} <= gauges
    assert any(e.gauge_id == "hlj-heihe" for e in exposures.values())


@given(low=st.floats(0.0, 15.0), high=st.floats(0.0, 15.0))
def test_a_higher_stage_never_has_a_milder_colour(low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert level_colour(low, T).rank <= level_colour(high, T).rank
