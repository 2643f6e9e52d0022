"""Flood and fire scoring: the documented formula on hand-built cells, and its invariants."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.errors import ModelInputError
from gis.grid import GridModel
from gis.risk import (
    StageForecast,
    Thresholds,
    cell_score,
    changed,
    explain,
    score_cell,
    score_fire,
    score_flood,
)
from stream.schemas import Colour, Hazard

NOW = datetime(2013, 8, 16, 8, tzinfo=timezone(timedelta(hours=8)))


def _model():
    # town cell with 999 people on the bank; empty rural cell further out; dry forest cell with no river
    return GridModel.from_columns(
        codes=["231102001001001", "231102001001002", "231123001001001"],
        lon=[127.50, 127.51, 128.5], lat=[50.24, 50.24, 49.5],
        population=[999, 0, 0], urban=[True, False, False], forest_frac=[0.0, 0.3, 1.0],
        fuel_type=["urban", "grass", "conifer"], gauge_id=["hlj-heihe", "hlj-heihe", None],
        inundation_stage_m=[8.0, 9.0, None], facilities=[("hospital", "231102001001002")],
    )


def test_flood_formula_on_known_cells():
    m = _model()
    s = score_flood(m, {"hlj-heihe": 8.0}, {}, 0.0, 0.0, 0.0, now=NOW)
    # town cell: at its flood stage -> stage hazard 0.5; exposure 0.5 + 0.5*log10(1000)/3 = 1.0; vulnerability 1.0
    assert s.score[0] == pytest.approx(0.5)
    assert s.colour_of(0) is Colour.YELLOW
    # rural cell: 1 m below -> 0; no river cell: 0
    assert s.score[1] == 0.0 and s.score[2] == 0.0
    f = s.factors_of(0)
    assert f["margin_m"] == 0.0 and f["stage_hazard"] == 0.5 and f["exposure"] == 1.0
    assert "stage_m" not in s.factors_of(2)  # no gauge: not applicable, left out


def test_explain_names_what_drove_the_colour():
    m = _model()
    s = score_flood(m, {"hlj-heihe": 8.6}, {"hlj-heihe": StageForecast(9.0, NOW + timedelta(hours=6))}, 0, 0, 0, now=NOW)
    text = explain(m, s, 0)
    assert text.startswith("orange flood risk 0.80 in cell 231102001001001")
    assert "stage 8.60 m at hlj-heihe vs flood stage 8.00 m" in text and "forecast 9.00 m" in text
    fire = score_fire(m, 30.0, {"231123001001001": 0.5}, now=NOW)
    assert "FWI 30.0" in explain(m, fire, 2) and "camera evidence 0.50" in explain(m, fire, 2)


def test_rain_alone_raises_town_flood_risk():
    m = _model()
    s = score_flood(m, {}, {}, 30.0, 0.0, 0.0, now=NOW)  # 30 mm in an hour
    assert s.factors_of(0)["rain_hazard"] == 1.0
    assert s.score[0] == pytest.approx(0.6)  # 1 - (1 - 0)(1 - 0.6*1), times exposure 1 and vulnerability 1
    assert s.score[0] > s.score[2] > 0  # outside town rain counts less and nobody lives there


def test_forecasts_count_only_within_the_horizon():
    m = _model()
    soon = {"hlj-heihe": StageForecast(9.0, NOW + timedelta(hours=12))}
    late = {"hlj-heihe": StageForecast(9.0, NOW + timedelta(days=5))}
    past = {"hlj-heihe": StageForecast(9.0, NOW - timedelta(hours=1))}
    base = score_flood(m, {"hlj-heihe": 7.0}, {}, 0, 0, 0, now=NOW).score[0]
    assert score_flood(m, {"hlj-heihe": 7.0}, soon, 0, 0, 0, now=NOW).score[0] == pytest.approx(0.8)  # 0.8 * ramp(+1 m)
    assert score_flood(m, {"hlj-heihe": 7.0}, late, 0, 0, 0, now=NOW).score[0] == base
    assert score_flood(m, {"hlj-heihe": 7.0}, past, 0, 0, 0, now=NOW).score[0] == base


def test_fire_formula_and_vision():
    m = _model()
    s = score_fire(m, 50.0, {}, now=NOW)
    # forest cell: FWI 50 -> 1 x fuel 1.0*(0.5+0.5) = 1; exposure max(0.5, 0.5+0.5*1) = 1 -> red
    assert s.score[2] == pytest.approx(1.0) and s.colour_of(2) is Colour.RED
    seen = score_fire(m, 0.0, {"231102001001001": 0.9}, now=NOW)
    assert seen.factors_of(0)["vision"] == 0.9 and seen.score[0] == pytest.approx(0.9)
    assert s.hazard is Hazard.FIRE and s.as_of == NOW


def test_one_cell_rescore_equals_whole_grid():
    m = GridModel.from_registry()
    stage = {g: 8.5 for g in m.gauge_ids}
    rain = np.linspace(0, 100, m.size)
    whole = score_flood(m, stage, {}, rain / 20, rain, rain * 1.5, now=NOW)
    for i in (0, 4321, m.size - 1):
        one = score_flood(m, stage, {}, rain / 20, rain, rain * 1.5, now=NOW, cells=[i])
        assert one.score[0] == whole.score[i] and one.colour[0] == whole.colour[i]
        assert cell_score(m, one, 0).factors == whole.factors_of(i)


def test_score_cell_by_code():
    m = _model()
    one = score_cell(m, "231102001001001", Hazard.FLOOD, now=NOW, stage_by_gauge={"hlj-heihe": 8.0},
                     forecast_by_gauge={}, rain_1h=0.0, rain_24h=0.0, rain_72h=0.0)
    assert one.colour is Colour.YELLOW and one.score == pytest.approx(0.5) and one.cell_code == "231102001001001"
    fire = score_cell(m, "231123001001001", Hazard.FIRE, now=NOW, fwi_by_cell=50.0, vision_by_cell={})
    assert fire.colour is Colour.RED
    with pytest.raises(ModelInputError, match="unknown cell_code"):
        score_cell(m, "nope", Hazard.FIRE, now=NOW, fwi_by_cell=1.0, vision_by_cell={})
    with pytest.raises(ModelInputError, match="camera_fault"):
        score_cell(m, "231123001001001", Hazard.CAMERA_FAULT, now=NOW)


def test_per_cell_rain_from_gauges():
    m = GridModel.from_registry()
    rain = m.interpolate([127.50, 126.5], [50.25, 48.24], [60.0, 0.0])  # a storm over Heihe town, dry in Bei'an
    heihe, beian = m.index_of[m.codes[np.char.startswith(m.codes, "231102001")][0]], m.index_of[
        m.codes[np.char.startswith(m.codes, "231181")][0]]
    assert rain[heihe] > 50 and rain[beian] < 10
    s = score_flood(m, {}, {}, 0.0, rain, rain, now=NOW)
    assert s.score[heihe] > s.score[beian]


def test_deterministic_and_changed():
    m = _model()
    a = score_flood(m, {"hlj-heihe": 8.0}, {}, 0, 0, 0, now=NOW)
    b = score_flood(m, {"hlj-heihe": 8.0}, {}, 0, 0, 0, now=NOW)
    assert np.array_equal(a.score, b.score) and changed(a, b).tolist() == []
    c = score_flood(m, {"hlj-heihe": 8.6}, {}, 0, 0, 0, now=NOW)
    assert changed(a, c).tolist() == [0, 1]  # town cell went up a colour; rural cell moved 0.06
    assert changed(None, c).tolist() == [0, 1, 2]


def test_thresholds_are_configuration():
    m = _model()
    strict = Thresholds(blue=0.05, yellow=0.1, orange=0.2, red=0.4)
    assert score_flood(m, {"hlj-heihe": 8.0}, {}, 0, 0, 0, now=NOW, thresholds=strict).colour_of(0) is Colour.RED
    with pytest.raises(ValueError, match="increasing"):
        Thresholds(blue=0.5, yellow=0.4)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 15), st.floats(0, 5), st.floats(0, 200), st.booleans())
def test_flood_risk_never_falls_as_the_stage_rises(stage, rise, rain, with_forecast):
    m = _MODEL
    fc = {g: StageForecast(stage + 0.3, NOW + timedelta(hours=6)) for g in m.gauge_ids} if with_forecast else {}
    low = score_flood(m, {g: stage for g in m.gauge_ids}, fc, rain / 10, rain, rain, now=NOW)
    high = score_flood(m, {g: stage + rise for g in m.gauge_ids}, fc, rain / 10, rain, rain, now=NOW)
    assert (high.score >= low.score - 1e-12).all()
    assert (high.colour >= low.colour).all()


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 120), st.floats(0, 60), st.floats(0, 1))
def test_fire_risk_never_falls_as_fwi_rises(fwi, rise, vision):
    m = _MODEL
    seen = {m.codes[7]: vision}
    low = score_fire(m, fwi, seen, now=NOW)
    high = score_fire(m, fwi + rise, seen, now=NOW)
    assert (high.score >= low.score - 1e-12).all()
    assert (high.colour >= low.colour).all()


_MODEL = GridModel.from_registry()
