"""The drill report's figures, from what a drill left on its topics: pure functions, no I/O.

:func:`build` turns a :class:`DrillRecord` (every revision of every incident,
operator commands, gauge states, crest forecasts and detections, cell risks)
and the scenario's :class:`~stream.sim.scenarios.truth.GroundTruth` into the
JSON-ready dict that ``amur drill report`` writes and renders. Every time in it
is event time (the drill's virtual clock), never the wall clock of the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stream import schemas
from stream.schemas import CellRisk, Colour, CrestDetected, CrestForecast, GaugeState, Hazard, IncidentChanged
from stream.sim.scenarios.truth import Expected, GroundTruth

CLOSED_CHANGES = frozenset({"resolved", "expired", "merged"})
TIMELINE_CHANGES = frozenset({"raised", "upgraded", "downgraded", "escalated", "acknowledged", "assigned",
                              "resolved", "expired", "merged", "reopened", "extended", "command_refused"})
MAX_HYDROGRAPHS = 6


@dataclass(frozen=True, slots=True)
class GaugeStages:
    """A gauge's name and threshold stages (from the layer set)."""

    name: str
    warning_m: float
    guaranteed_m: float


@dataclass(frozen=True)
class DrillRecord:
    """What one drill left on its topics, each list in the order it was read."""

    run_id: str
    incidents: Sequence[IncidentChanged]
    commands: Sequence[schemas.OperatorCommand] = ()
    gauges: Sequence[GaugeState] = ()
    forecasts: Sequence[CrestForecast] = ()
    crests: Sequence[CrestDetected] = ()
    risks: Sequence[CellRisk] = ()
    stopped_early: bool = False
    """From the drill's own report.json: the pipeline had not processed everything when it stopped."""


@dataclass(frozen=True, slots=True)
class Match:
    expected: Expected
    incident_id: str | None
    raised_at: datetime | None

    @property
    def status(self) -> str:
        if self.raised_at is None:
            return "missed"
        return "on_time" if self.raised_at <= self.expected.by else "late"

    @property
    def delay_s(self) -> float | None:
        return None if self.raised_at is None else (self.raised_at - self.expected.by).total_seconds()


@dataclass(frozen=True)
class Score:
    matches: list[Match]
    false_alarms: list[str]
    """Incidents of the truth's hazards that match no expectation."""
    outside: list[str] = field(default_factory=list)
    """Incidents of hazards the truth does not speak for."""

    @property
    def recall(self) -> float | None:
        """Share of expectations raised at all (late ones included)."""
        return _share(sum(m.raised_at is not None for m in self.matches), len(self.matches))

    @property
    def on_time(self) -> float | None:
        return _share(sum(m.status == "on_time" for m in self.matches), len(self.matches))

    @property
    def precision(self) -> float | None:
        """Share of the incidents in scope that match an expectation."""
        hit = {m.incident_id for m in self.matches if m.incident_id}
        return _share(len(hit), len(hit) + len(self.false_alarms))


def _share(n: int, of: int) -> float | None:
    return None if of == 0 else n / of


def histories(events: Iterable[IncidentChanged]) -> dict[str, list[IncidentChanged]]:
    """Every incident's revisions in revision order (a replayed revision counted once)."""
    by_id: dict[str, dict[int, IncidentChanged]] = defaultdict(dict)
    for event in events:
        by_id[event.incident_id][event.revision] = event
    return {i: [revs[r] for r in sorted(revs)] for i, revs in by_id.items()}


def raised_at(incident: IncidentChanged) -> datetime:
    return incident.raised_at or incident.event_time


def county_of(incident: IncidentChanged) -> str:
    if incident.area_key:
        return incident.area_key.split("/")[0]
    return incident.cells[0][:6] if incident.cells else ""


def live_incidents(latest: Iterable[IncidentChanged]) -> list[IncidentChanged]:
    """The incidents that stand on their own: not merged into another one."""
    return [i for i in latest if i.merged_into is None]


def detected_at(expected: Expected, incident: IncidentChanged) -> datetime | None:
    """When the incident shows the expected event: when raised, or once it has the expected kind of evidence."""
    if expected.evidence is None:
        return raised_at(incident)
    seen = [e.event_time for e in incident.evidence if e.kind == expected.evidence]
    return max(raised_at(incident), min(seen)) if seen else None


def matches(expected: Expected, incident: IncidentChanged) -> bool:
    if incident.hazard is not expected.hazard or not set(expected.cameras) <= set(incident.cameras):
        return False
    if detected_at(expected, incident) is None:
        return False
    if expected.cells:
        return bool(set(expected.cells) & set(incident.cells))
    return county_of(incident) == expected.county


def score(latest: Iterable[IncidentChanged], truth: GroundTruth) -> Score:
    """Each expectation against the earliest incident that matches it; the rest of the truth's hazards are false
    alarms."""
    incidents = sorted(live_incidents(latest), key=lambda i: (raised_at(i), i.incident_id))
    found = []
    for expected in truth.expected:
        hit = min(((detected_at(expected, i), i.incident_id) for i in incidents if matches(expected, i)),
                  default=(None, None))
        found.append(Match(expected, hit[1], hit[0]))
    matched = {m.incident_id for m in found}
    in_scope = [i for i in incidents if i.hazard in truth.hazards]
    return Score(found, [i.incident_id for i in in_scope if i.incident_id not in matched],
                 [i.incident_id for i in incidents if i.hazard not in truth.hazards])


def ack_seconds(history: Sequence[IncidentChanged]) -> float | None:
    """Event seconds from raised to the first acknowledgement (None: never acknowledged)."""
    ack = next((r for r in history if r.change == "acknowledged"), None)
    return None if ack is None else (ack.event_time - raised_at(history[0])).total_seconds()


def crest_times(crests: Iterable[CrestDetected]) -> dict[str, datetime]:
    """Per gauge, the time of its highest crest detected in the drill (latest revision of each crest)."""
    latest: dict[tuple[str, int], CrestDetected] = {}
    for crest in crests:
        known = latest.get((crest.gauge_id, crest.crest_no))
        if known is None or crest.revision >= known.revision:
            latest[(crest.gauge_id, crest.crest_no)] = crest
    best: dict[str, CrestDetected] = {}
    for (gauge, _), crest in latest.items():
        if gauge not in best or crest.stage_m > best[gauge].stage_m:
            best[gauge] = crest
    return {gauge: crest.crest_time for gauge, crest in best.items()}


def lead_times(latest: Iterable[IncidentChanged], crests: Mapping[str, datetime], score_: Score) -> list[dict]:
    """Each flood alert's lead before the crest reached its river reach: the crest the drill detected at the
    reach's gauge, else the truth's crest of the expectation it matched. Negative: raised after the crest."""
    truth_crest = {m.incident_id: m.expected.crest_at for m in score_.matches if m.incident_id}
    rows = []
    for incident in live_incidents(latest):
        if incident.hazard is not Hazard.FLOOD:
            continue
        reach = next((e.reach for e in incident.evidence if e.reach), None)
        crest, basis = (crests[reach], f"crest detected at {reach}") if reach in crests else (
            truth_crest.get(incident.incident_id), "scenario's true crest")
        if crest is None:
            continue
        rows.append({"incident": incident.incident_id, "title": incident.title, "gauge": reach,
                     "raised_at": raised_at(incident).isoformat(), "crest_at": crest.isoformat(), "basis": basis,
                     "lead_h": round((crest - raised_at(incident)).total_seconds() / 3600, 2)})
    return sorted(rows, key=lambda r: r["raised_at"])


def timeline(hist: Mapping[str, Sequence[IncidentChanged]], commands: Iterable[schemas.OperatorCommand]
             ) -> list[dict]:
    """Incident changes and operator actions in event-time order."""
    rows = [{"at": r.event_time.isoformat(), "kind": "incident", "incident": r.incident_id, "change": r.change,
             "colour": r.colour.value, "hazard": r.hazard.value, "title": r.title,
             "detail": f"level {r.escalation_level}" if r.change == "escalated" else (r.assignee or "")}
            for revs in hist.values() for r in revs if r.change in TIMELINE_CHANGES]
    rows += [{"at": c.event_time.isoformat(), "kind": "operator", "incident": c.incident_id,
              "change": c.action.value, "colour": "", "hazard": "", "title": c.comment or "",
              "detail": f"{c.operator} ({c.role.value})"} for c in commands]
    return sorted(rows, key=lambda r: (r["at"], r["kind"], r["incident"]))


def open_over_time(hist: Mapping[str, Sequence[IncidentChanged]]) -> list[list]:  # type: ignore[type-arg]
    """(event time, incidents open just after it): a step each time one is raised or closed."""
    steps: list[tuple[datetime, int]] = []
    for revs in hist.values():
        steps.append((raised_at(revs[0]), 1))
        closed = next((r for r in revs if r.change in CLOSED_CHANGES or r.merged_into), None)
        if closed is not None:
            steps.append((closed.event_time, -1))
    out, n = [], 0
    for at, delta in sorted(steps):
        n += delta
        out.append([at.isoformat(), n])
    return out


def risk_by_county(risks: Iterable[CellRisk]) -> dict[str, dict[str, int]]:
    """Per county, cells by the worst colour they reached in the drill (yellow and worse, any hazard)."""
    worst: dict[str, Colour] = {}
    for risk in risks:
        if risk.colour.rank > worst.get(risk.cell_code, Colour.GREEN).rank:
            worst[risk.cell_code] = risk.colour
    out: dict[str, dict[str, int]] = defaultdict(lambda: {c.value: 0 for c in (Colour.YELLOW, Colour.ORANGE,
                                                                               Colour.RED)})
    for cell, colour in worst.items():
        if colour.rank >= Colour.YELLOW.rank:
            out[cell[:6]][colour.value] += 1
    return dict(sorted(out.items()))


def hydrographs(gauges: Iterable[GaugeState], forecasts: Iterable[CrestForecast],
                stages: Mapping[str, GaugeStages]) -> list[dict]:
    """The gauges worth a chart (forecast, or the highest against their warning stage), with stage series,
    thresholds and forecast crests."""
    series: dict[str, list[list]] = defaultdict(list)  # type: ignore[type-arg]
    for g in sorted(gauges, key=lambda g: g.event_time):
        series[g.gauge_id].append([g.event_time.isoformat(), g.stage_m])
    predicted: dict[str, list[dict]] = defaultdict(list)
    for f in forecasts:
        if not f.cancelled:
            predicted[f.gauge_id].append({"issued_at": f.issued_at.isoformat(), "arrival": f.arrival_time.isoformat(),
                                          "stage_m": f.stage_m, "low_m": f.stage_low_m, "high_m": f.stage_high_m})

    def margin(gauge: str) -> tuple[bool, float]:
        top = max(s for _, s in series[gauge])
        warn = stages[gauge].warning_m if gauge in stages else top
        return gauge in predicted, top - warn

    chosen = sorted(series, key=margin, reverse=True)[:MAX_HYDROGRAPHS]
    return [{"gauge": g, "name": stages[g].name if g in stages else g, "series": series[g],
             "warning_m": stages[g].warning_m if g in stages else None,
             "guaranteed_m": stages[g].guaranteed_m if g in stages else None,
             "forecasts": sorted(predicted[g], key=lambda f: f["issued_at"])} for g in chosen]


def _median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def build(record: DrillRecord, truth: GroundTruth | None, stages: Mapping[str, GaugeStages] | None = None,
          county_names: Mapping[str, str] | None = None) -> dict:
    """The whole report as a JSON-ready dict: headline figures first, then the sections."""
    names = county_names or {}
    hist = histories(record.incidents)
    latest = [revs[-1] for revs in hist.values()]
    live = live_incidents(latest)
    acks = {i: ack_seconds(revs) for i, revs in hist.items()}
    scored = score(latest, truth) if truth is not None else None
    leads = lead_times(latest, crest_times(record.crests), scored or Score([], []))
    faults = [i for i in live if i.hazard is Hazard.CAMERA_FAULT]
    by_colour: dict[str, int] = defaultdict(int)
    for incident in live:
        by_colour[incident.colour.value] += 1
    acked = [s for s in acks.values() if s is not None]
    headline = {
        "incidents": len(live), "merged": len(latest) - len(live), "by_colour": dict(by_colour),
        "precision": scored.precision if scored else None, "recall": scored.recall if scored else None,
        "on_time": scored.on_time if scored else None,
        "missed": sum(m.status == "missed" for m in scored.matches) if scored else None,
        "late": sum(m.status == "late" for m in scored.matches) if scored else None,
        "expected": len(scored.matches) if scored else None,
        "false_alarms": len(scored.false_alarms) if scored else None,
        "median_ack_s": _median(acked), "acknowledged": len(acked),
        "min_flood_lead_h": min((r["lead_h"] for r in leads), default=None),
        "camera_faults": len(faults), "cameras_at_fault": len({c for i in faults for c in i.cameras}),
    }
    return {
        "run_id": record.run_id, "status": "Exercise", "stopped_early": record.stopped_early,
        "scenario": truth.scenario if truth else None, "start": truth.start.isoformat() if truth else None,
        "seed": truth.seed if truth else None, "headline": headline,
        "truth": [{"key": m.expected.key, "what": m.expected.what, "hazard": m.expected.hazard.value,
                   "county": m.expected.county, "county_name": names.get(m.expected.county, ""),
                   "by": m.expected.by.isoformat(), "status": m.status, "incident": m.incident_id,
                   "raised_at": m.raised_at.isoformat() if m.raised_at else None, "delay_s": m.delay_s}
                  for m in (scored.matches if scored else [])],
        "false_alarms": scored.false_alarms if scored else [],
        "outside_truth": scored.outside if scored else [],
        "incidents": [{"id": i.incident_id, "hazard": i.hazard.value, "colour": i.colour.value,
                       "state": i.state.value, "title": i.title, "county": county_of(i),
                       "county_name": names.get(county_of(i), ""), "raised_at": raised_at(i).isoformat(),
                       "evidence": len(i.evidence), "cells": len(i.cells), "cameras": i.cameras,
                       "escalation_level": i.escalation_level, "ack_s": acks[i.incident_id],
                       "merged_from": i.merged_from}
                      for i in sorted(live, key=lambda i: (-i.colour.rank, raised_at(i), i.incident_id))],
        "camera_faults": [{"id": i.incident_id, "title": i.title, "cameras": i.cameras,
                           "raised_at": raised_at(i).isoformat()} for i in faults],
        "lead_times": leads,
        "timeline": timeline(hist, record.commands),
        "open_over_time": open_over_time(hist),
        "risk_by_county": {f"{code} {names.get(code, '')}".strip(): counts
                           for code, counts in risk_by_county(record.risks).items()},
        "hydrographs": hydrographs(record.gauges, record.forecasts, stages or {}),
    }
