"""Scenario heilongjiang-crest-5's ground truth: a flood alert for each gauge the wave takes over its warning stage
and that controls cells, due by the true crest there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gis.hydro.config import load_config
from stream.schemas import Hazard
from stream.sim.scenarios import heilongjiang_crest_5 as S

T0 = datetime(2024, 8, 1, tzinfo=timezone(timedelta(hours=8)))


def test_every_gauge_over_its_warning_stage_with_cells_is_expected_by_its_true_crest() -> None:
    config = load_config()
    stages = S.true_stages(config)
    truth = S.ground_truth(T0, 7, config)
    expected = {x.key.removeprefix("flood-"): x for x in truth.expected}
    assert "hlj-heihe" in expected and "hlj-oupu" not in expected  # Oupu: over its record, but no cell of the sample
    for gauge_id, x in expected.items():
        assert stages[gauge_id].max() >= config.gauges[gauge_id].warning_m and x.cells
        assert x.hazard is Hazard.FLOOD and x.by == x.crest_at == S.true_crest(gauge_id, T0, config).time
    heihe = expected["hlj-heihe"].by
    assert T0 + timedelta(days=5, hours=23) < heihe < T0 + timedelta(days=6, hours=1)  # 2024-08-06 23:49 (hydrology.md)
    assert truth.hazards == {Hazard.FLOOD}
