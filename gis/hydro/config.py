"""The hydrology configuration: rating curves per gauge and reaches between gauges.

A YAML file (the bundled sample is ``gis/hydro/heihe.yaml``)::

    dt_h: 1.0                      # routing time step, hours
    ratings:
      hlj-heihe: {a: 702.96, h0: 0.5, b: 1.6}
    reaches:
      - {from: hlj-dawujiazi, to: hlj-heihe, k_h: 10.1, x: 0.2, arrival_sd_h: 1.0, flow_sd: 0.05}
      - {from: fbl-kalun, to: hlj-heihe, lag_h: 8.0}   # only the travel time is known
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gis.hydro.errors import HydroConfigError
from gis.hydro.network import Gauge, Reach, RiverNetwork
from gis.hydro.rating import RatingCurve
from gis.registry import load_gauges

SAMPLE_CONFIG = Path(__file__).resolve().parent / "heihe.yaml"


@dataclass(frozen=True, slots=True)
class HydroConfig:
    network: RiverNetwork
    ratings: Mapping[str, RatingCurve]
    dt_h: float = 1.0

    @property
    def gauges(self) -> Mapping[str, Gauge]:
        return self.network.gauges


def load_config(path: Path = SAMPLE_CONFIG, data_dir: Path | None = None) -> HydroConfig:
    """Read and check a hydrology configuration against the gauges of a layer set

    (``data_dir``; default: the bundled Heihe sample)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HydroConfigError(f"cannot read hydrology config {str(path)!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise HydroConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise HydroConfigError(f"{path}: expected a mapping at the top, got {type(raw).__name__}")
    return build_config(raw, {g.gauge_id: g for g in load_gauges(data_dir)}, where=str(path))


def build_config(raw: Mapping[str, Any], gauges: Mapping[str, Gauge], where: str = "config") -> HydroConfig:
    ratings: dict[str, RatingCurve] = {}
    for gauge_id, spec in (raw.get("ratings") or {}).items():
        if gauge_id not in gauges:
            raise HydroConfigError(f"{where}: rating for unknown gauge {gauge_id!r}")
        try:
            ratings[gauge_id] = RatingCurve(gauge_id, float(spec["a"]), float(spec["h0"]), float(spec["b"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise HydroConfigError(f"{where}: rating of {gauge_id}: needs numbers a, h0, b ({exc!r})") from None
    reaches: dict[str, Reach] = {}
    for spec in raw.get("reaches") or []:
        try:
            reach = Reach(
                upstream=str(spec["from"]),
                downstream=str(spec["to"]),
                k_h=_opt_float(spec.get("k_h")),
                x=float(spec.get("x", 0.2)),
                lag_h=_opt_float(spec.get("lag_h")),
                arrival_sd_h=float(spec.get("arrival_sd_h", 3.0)),
                flow_sd=float(spec.get("flow_sd", 0.05)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HydroConfigError(f"{where}: bad reach {spec!r} ({exc!r})") from None
        if reach.upstream in reaches:
            raise HydroConfigError(f"{where}: two reaches start at {reach.upstream!r}")
        reaches[reach.upstream] = reach
    dt_h = float(raw.get("dt_h", 1.0))
    if not dt_h > 0:
        raise HydroConfigError(f"{where}: dt_h must be > 0, got {dt_h!r}")
    return HydroConfig(network=RiverNetwork(gauges=dict(gauges), reaches=reaches), ratings=ratings, dt_h=dt_h)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)

