"""Small gauge tables for the hydrology tests."""

from __future__ import annotations

from gis.registry import Gauge


def gauge(gauge_id: str, river: str, chainage_km: float, warning: float, guaranteed: float, record: float,
          downstream: str | None) -> Gauge:
    return Gauge(gauge_id=gauge_id, name=gauge_id, name_zh=gauge_id, river=river, order=1, lon=127.5, lat=50.2,
                 chainage_km=chainage_km, warning_m=warning, guaranteed_m=guaranteed, record_m=record,
                 downstream_gauge_id=downstream)
