"""Gauges, reaches and the hydrology configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.hydro.config import build_config, load_config
from gis.hydro.errors import HydroConfigError
from gis.hydro.network import Reach, RiverNetwork
from gis.registry import load_gauges
from tests.helpers.hydro import gauge

GAUGES = {
    "a": gauge("a", "r", 0.0, 5.0, 6.0, 7.0, "b"),
    "b": gauge("b", "r", 40.0, 5.0, 6.0, 7.0, "c"),
    "c": gauge("c", "r", 80.0, 5.0, 6.0, 7.0, None),
    "t": gauge("t", "trib", 10.0, 2.0, 3.0, 4.0, "b"),
}


def _net(**extra: Reach) -> RiverNetwork:
    reaches = {"a": Reach("a", "b", k_h=10.0), "b": Reach("b", "c", k_h=12.0), "t": Reach("t", "b", lag_h=5.0)}
    return RiverNetwork(GAUGES, {**reaches, **extra})


def test_chain_and_travel_times() -> None:
    net = _net()
    assert [r.downstream for r in net.chain("a")] == ["b", "c"]
    assert net.travel_h("a", "c") == 22.0
    assert net.travel_h("t", "c") == 17.0
    assert net.travel_h("c", "a") is None and net.chain("c") == ()


def test_reach_must_follow_the_gauge_table() -> None:
    with pytest.raises(HydroConfigError, match="the gauge table says a drains to 'b'"):
        _net(a=Reach("a", "c", k_h=3.0))
    with pytest.raises(HydroConfigError, match="unknown gauge 'zz'"):
        RiverNetwork(GAUGES, {"zz": Reach("zz", "b", k_h=1.0)})


def test_reach_needs_exactly_one_method() -> None:
    with pytest.raises(HydroConfigError, match="exactly one of k_h"):
        Reach("a", "b")
    with pytest.raises(HydroConfigError, match="exactly one of k_h"):
        Reach("a", "b", k_h=1.0, lag_h=2.0)
    with pytest.raises(HydroConfigError, match="x must be in"):
        Reach("a", "b", k_h=1.0, x=0.7)


def test_cycles_are_refused() -> None:
    gauges = {"a": gauge("a", "r", 0, 1, 2, 3, "b"), "b": gauge("b", "r", 1, 1, 2, 3, "a")}
    with pytest.raises(HydroConfigError, match="cycle"):
        RiverNetwork(gauges, {"a": Reach("a", "b", k_h=1.0), "b": Reach("b", "a", k_h=1.0)})


def test_config_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(HydroConfigError, match="rating for unknown gauge 'nope'"):
        build_config({"ratings": {"nope": {"a": 1, "h0": 0, "b": 1.5}}}, GAUGES)
    with pytest.raises(HydroConfigError, match="rating of a: needs numbers a, h0, b"):
        build_config({"ratings": {"a": {"a": 1}}}, GAUGES)
    with pytest.raises(HydroConfigError, match="two reaches start at 'a'"):
        build_config({"reaches": [{"from": "a", "to": "b", "k_h": 1}, {"from": "a", "to": "b", "k_h": 2}]}, GAUGES)
    bad = tmp_path / "h.yaml"
    bad.write_text("[1, 2")
    with pytest.raises(HydroConfigError, match="not valid YAML"):
        load_config(bad)


def test_sample_config_covers_the_bundled_gauges() -> None:
    config = load_config()
    gauges = {g.gauge_id: g for g in load_gauges()}
    assert set(config.gauges) == set(gauges)
    # Every gauge that drains somewhere has a reach; the Fabiela joins at Heihe by a lag only.
    assert {g for g, x in gauges.items() if x.downstream_gauge_id} == set(config.network.reaches)
    assert config.network.reaches["fbl-kalun"].lag_h is not None
    assert [r.downstream for r in config.network.chain("hlj-huma")][:3] == ["hlj-sandaoka", "hlj-dawujiazi", "hlj-heihe"]
    assert 40 < config.network.travel_h("hlj-huma", "hlj-heihe") < 80  # type: ignore[operator]
