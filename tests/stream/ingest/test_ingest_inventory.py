"""The inventory of known sensors, stations, gauges and cameras, from the GIS layer set."""

from __future__ import annotations

from collections import Counter

from stream.ingest.inventory import Inventory, Site, load_inventory
from stream.schemas import SensorKind


def test_bundled_sample_inventory_matches_the_design_point() -> None:
    # ARCHITECTURE.md "Heihe-scale load": 10,000 sensors, 50-200 weather stations, 20-60 gauges, 5,000 cameras
    inventory = load_inventory()
    assert inventory.sensors is not None and len(inventory.sensors) == 10_000
    assert set(Counter(inventory.sensors.values())) == {SensorKind.SMOKE, SensorKind.TEMPERATURE, SensorKind.RAIN,
                                                        SensorKind.WATER_LEVEL}
    assert inventory.stations is not None and 50 <= len(inventory.stations) <= 200
    assert inventory.gauges is not None and 20 <= len(inventory.gauges) <= 60 and inventory.has_gauge("hlj-heihe")
    assert inventory.cameras is not None and len(inventory.cameras) == 5_000
    assert all(g.warning_m is not None for g in inventory.sites["gauges"])
    assert {s.owner for s in inventory.sites["sensors"]} >= {"forestry", "city_management"}


def test_lookups() -> None:
    inventory = Inventory.from_sites([Site("t-1", 127.0, 50.0, SensorKind.TEMPERATURE)], [Site("ws-1", 127.0, 50.0)],
                                     [], cameras=["c-1"])
    assert inventory.sensor_kind("t-1", SensorKind.SMOKE) is SensorKind.TEMPERATURE
    assert inventory.sensor_kind("t-2", SensorKind.SMOKE) is None
    assert inventory.has_station("ws-1") and not inventory.has_station("ws-2")
    assert not inventory.has_gauge("g") and inventory.has_camera("c-1") and not inventory.has_camera("c-2")
    unchecked = Inventory(sensors=None, stations=None, gauges=None)
    assert unchecked.sensor_kind("any", SensorKind.RAIN) is SensorKind.RAIN and unchecked.has_gauge("any")
