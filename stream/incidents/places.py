"""Where evidence is: the small GIS interface the fusion needs, and a table-backed index.

The fusion never imports GIS code; it asks a :class:`PlaceIndex`. Tests pass a
:class:`TablePlaces` built from fixtures (or a JSON file, ``AMUR_INCIDENT_PLACES``);
a deployment uses the GIS layer set (``stream.incidents.gis_places``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from stream.errors import ConfigError

LonLat = tuple[float, float]


class PlaceIndex(Protocol):
    def cells_of_gauge(self, gauge_id: str, stage_m: float | None = None) -> tuple[str, ...]:
        """Cells flooded at ``stage_m`` (or the gauge's own cell); empty for a gauge outside the city."""
        ...
    def cells_of_camera(self, camera_id: str) -> tuple[str, ...]: ...
    def cell_at(self, lon: float, lat: float) -> str | None: ...
    def neighbours(self, cell: str) -> frozenset[str]:
        """Cells sharing a boundary with ``cell`` (symmetric: b is a neighbour of a iff a is one of b)."""
        ...
    def cameras_covering(self, cells: Sequence[str]) -> tuple[str, ...]:
        """Cameras that see any of ``cells``, best coverage first."""
        ...
    def outline(self, cell: str) -> tuple[LonLat, ...] | None:
        """The cell's boundary as a closed (lon, lat) ring, if known."""
        ...
    def centre(self, cell: str) -> LonLat | None: ...
    def name(self, code: str) -> str | None: ...


@dataclass(frozen=True)
class TablePlaces:
    """A :class:`PlaceIndex` over plain mappings."""

    gauges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    camera_coverage: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """camera id -> {cell code: share of the cell the camera sees (0..1)}."""
    neighbour_map: Mapping[str, frozenset[str]] = field(default_factory=dict)
    outlines: Mapping[str, tuple[LonLat, ...]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    def cells_of_gauge(self, gauge_id: str, stage_m: float | None = None) -> tuple[str, ...]:
        return tuple(self.gauges.get(gauge_id, ()))

    def cells_of_camera(self, camera_id: str) -> tuple[str, ...]:
        coverage = self.camera_coverage.get(camera_id, {})
        return tuple(sorted(coverage, key=lambda c: (-coverage[c], c)))

    def cell_at(self, lon: float, lat: float) -> str | None:
        for code, ring in sorted(self.outlines.items()):
            if _inside(ring, lon, lat):
                return code
        return None

    def neighbours(self, cell: str) -> frozenset[str]:
        declared = self.neighbour_map.get(cell, frozenset())
        return declared | {other for other, theirs in self.neighbour_map.items() if cell in theirs}

    def cameras_covering(self, cells: Sequence[str]) -> tuple[str, ...]:
        wanted = set(cells)
        scored = [(sum(share for c, share in cov.items() if c in wanted), cam)
                  for cam, cov in self.camera_coverage.items()]
        return tuple(cam for score, cam in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0)

    def outline(self, cell: str) -> tuple[LonLat, ...] | None:
        return self.outlines.get(cell)

    def centre(self, cell: str) -> LonLat | None:
        ring = self.outlines.get(cell)
        if not ring:
            return None
        points = ring[:-1] if ring[0] == ring[-1] else ring
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))

    def name(self, code: str) -> str | None:
        return self.names.get(code)


def adjacent(places: PlaceIndex, a: str, b: str) -> bool:
    """Same cell, neighbours by the GIS, or two cells of the same village (15-digit codes)."""
    return Nearby.of(places, [a]).touches([b])


@dataclass(frozen=True)
class Nearby:
    """What counts as next to some cells: the cells themselves, their neighbours, and their villages."""

    cells: frozenset[str]
    villages: frozenset[str]

    @classmethod
    def of(cls, places: PlaceIndex, cells: Iterable[str]) -> Nearby:
        own = frozenset(cells)
        near = own.union(*(places.neighbours(cell) for cell in own))
        return cls(near, frozenset(cell[:12] for cell in own if len(cell) == 15))

    def touches(self, cells: Iterable[str]) -> bool:
        """Whether any of ``cells`` is one of them, next to one, or in the same village as one."""
        return any(cell in self.cells or (len(cell) == 15 and cell[:12] in self.villages) for cell in cells)


def _inside(ring: Sequence[LonLat], lon: float, lat: float) -> bool:
    """Even-odd rule point-in-polygon."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def places_from_json(path: Path) -> TablePlaces:
    """Load ``{"gauges": {id: [cells]}, "cameras": {id: {cell: share}},
    "neighbours": {cell: [cells]}, "outlines": {cell: [[lon, lat], ...]}, "names": {code: name}}``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"incident places file {path}: {exc}") from None
    return TablePlaces(
        gauges={k: tuple(v) for k, v in doc.get("gauges", {}).items()},
        camera_coverage={k: dict(v) for k, v in doc.get("cameras", {}).items()},
        neighbour_map={k: frozenset(v) for k, v in doc.get("neighbours", {}).items()},
        outlines={k: tuple((float(p[0]), float(p[1])) for p in v) for k, v in doc.get("outlines", {}).items()},
        names=dict(doc.get("names", {})),
    )


def load_places(path: Path | None, manifest: Path | None = None) -> PlaceIndex:
    """A JSON index when ``path`` is set, else the GIS layer set of ``manifest`` (None: the bundled sample)."""
    if path:
        return places_from_json(path)
    from stream.incidents.gis_places import load_gis_places

    return load_gis_places(manifest)


class ChannelPlaces:
    """A :class:`PlaceIndex` plus the real-camera inventory's channels (GB/T 28181, ONVIF), which may change.

    A channel sees the cell it is placed in; its field of view is not known, so it ranks after the
    cameras whose coverage the GIS knows (a registry camera that sees the cell is the better picture).
    :meth:`set_channels` replaces the whole set (the inventory read again).
    """

    def __init__(self, places: PlaceIndex) -> None:
        self.places = places
        self.cell_of_channel: dict[str, str] = {}
        self.channels_in: dict[str, tuple[str, ...]] = {}

    def set_channels(self, cell_of_channel: Mapping[str, str]) -> None:
        self.cell_of_channel = dict(cell_of_channel)
        by_cell: dict[str, list[str]] = {}
        for channel, cell in sorted(self.cell_of_channel.items()):
            by_cell.setdefault(cell, []).append(channel)
        self.channels_in = {cell: tuple(ids) for cell, ids in by_cell.items()}

    def cameras_covering(self, cells: Sequence[str]) -> tuple[str, ...]:
        channels = [c for cell in cells for c in self.channels_in.get(cell, ())]
        return tuple(dict.fromkeys((*self.places.cameras_covering(cells), *channels)))

    def cells_of_camera(self, camera_id: str) -> tuple[str, ...]:
        cell = self.cell_of_channel.get(camera_id)
        return (cell,) if cell is not None else self.places.cells_of_camera(camera_id)

    def cells_of_gauge(self, gauge_id: str, stage_m: float | None = None) -> tuple[str, ...]:
        return self.places.cells_of_gauge(gauge_id, stage_m)

    def cell_at(self, lon: float, lat: float) -> str | None:
        return self.places.cell_at(lon, lat)

    def neighbours(self, cell: str) -> frozenset[str]:
        return self.places.neighbours(cell)

    def outline(self, cell: str) -> tuple[LonLat, ...] | None:
        return self.places.outline(cell)

    def centre(self, cell: str) -> LonLat | None:
        return self.places.centre(cell)

    def name(self, code: str) -> str | None:
        return self.places.name(code)
