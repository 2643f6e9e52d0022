"""What exists in the city: the sensors, weather stations, river gauges and cameras.

Ingest refuses readings from things it does not know. The lists come from the
GIS layer set (``gis.registry``: ``load_sensors() / load_stations() /
load_gauges() / load_cameras()``); tests build an :class:`Inventory` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stream.schemas import SensorKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Site:
    """One observing thing and where it is (WGS84)."""

    site_id: str
    lon: float
    lat: float
    kind: SensorKind | None = None
    """Sensor kind; None for stations and gauges."""
    warning_m: float | None = None
    """A gauge's warning stage (places its normal level in the simulator)."""
    owner: str | None = None
    """The department running a sensor, as the GIS layer names it (e.g. forestry, city_management)."""


@dataclass(frozen=True)
class Inventory:
    """Known ids by category; a category that is None is not checked (no list loaded)."""

    sensors: Mapping[str, SensorKind] | None
    stations: frozenset[str] | None
    gauges: frozenset[str] | None
    cameras: frozenset[str] | None = None
    sites: Mapping[str, tuple[Site, ...]] = field(default_factory=dict)
    """Positions by category ("sensors", "stations", "gauges") for the simulators."""

    def sensor_kind(self, sensor_id: str, claimed: SensorKind) -> SensorKind | None:
        """The sensor's registered kind (``claimed`` when sensors are unchecked); None if unknown."""
        if self.sensors is None:
            return claimed
        return self.sensors.get(sensor_id)

    def has_station(self, station_id: str) -> bool:
        return self.stations is None or station_id in self.stations

    def has_gauge(self, gauge_id: str) -> bool:
        return self.gauges is None or gauge_id in self.gauges

    def has_camera(self, camera_id: str) -> bool:
        return self.cameras is None or camera_id in self.cameras

    @classmethod
    def from_sites(cls, sensors: Iterable[Site], stations: Iterable[Site], gauges: Iterable[Site],
                   cameras: Iterable[str] | None = None) -> "Inventory":
        sensors, stations, gauges = tuple(sensors), tuple(stations), tuple(gauges)
        return cls(
            sensors={s.site_id: s.kind or SensorKind.OTHER for s in sensors},
            stations=frozenset(s.site_id for s in stations),
            gauges=frozenset(s.site_id for s in gauges),
            cameras=None if cameras is None else frozenset(cameras),
            sites={"sensors": sensors, "stations": stations, "gauges": gauges},
        )


def load_inventory(gis_manifest: Path | None = None) -> Inventory:
    """The inventory of the GIS layer set (``AMUR_GIS_MANIFEST``; None = the bundled Heihe sample)."""
    from gis import registry as gis_registry  # the GIS area owns these lists

    data_dir = gis_registry.data_dir_for(gis_manifest)
    sensors = [Site(x.sensor_id, x.lon, x.lat, kind=SensorKind(x.kind), owner=x.source)
               for x in gis_registry.load_sensors(data_dir)]
    stations = [Site(x.station_id, x.lon, x.lat) for x in gis_registry.load_stations(data_dir)]
    gauges = [Site(x.gauge_id, x.lon, x.lat, warning_m=x.warning_m) for x in gis_registry.load_gauges(data_dir)]
    cameras = [c.camera_id for c in gis_registry.load_cameras(data_dir)]
    log.info("inventory loaded sensors=%s stations=%s gauges=%s cameras=%s",
             len(sensors), len(stations), len(gauges), len(cameras))
    return Inventory.from_sites(sensors, stations, gauges, cameras)

