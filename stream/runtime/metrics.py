"""Prometheus counters for ingest outcomes, per source, plus Faust's own sensor.

One :class:`Metrics` object per process, built in ``main`` and passed down.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream.ingest.outcome import Outcome


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.events = Counter("amur_events_total", "Input events by source and outcome",
                              ["source", "outcome"], registry=self.registry)
        self.dropped = Counter("amur_dropped_total", "Items dropped from a bounded queue",
                               ["queue"], registry=self.registry)
        self.sources_stale = Gauge("amur_sources_stale", "Data sources currently stale",
                                   registry=self.registry)
        self.frames = Counter("amur_frames_total", "Sampled frames by decode status",
                              ["status"], registry=self.registry)
        self.stage_latency = Histogram("amur_stage_seconds", "Processing time per pipeline stage",
                                       ["stage"], registry=self.registry)

    def count(self, source: str, outcome: Outcome, n: int = 1) -> None:
        if n:
            self.events.labels(source=source, outcome=outcome.value).inc(n)
