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
        self.sampling_fps = Gauge("amur_vision_sampling_fps", "Camera frames/s the sampling plan asks for "
                                  "(planned) and the sampler dispatched over the last 10 s (served)",
                                  ["rate"], registry=self.registry)
        self.sip_refused = Counter("amur_gb28181_refused_total", "SIP messages the GB/T 28181 server refused, "
                                   "by reason (malformed, hostile, failed authentication ...)", ["reason"],
                                   registry=self.registry)
        self.cameras_late = Gauge("amur_vision_cameras_late", "Cameras waiting too long: claimed ones past "
                                  "1.5 x their planned interval (claimed_behind), any past the max interval "
                                  "(past_max_interval)", ["kind"], registry=self.registry)

    def count(self, source: str, outcome: Outcome, n: int = 1) -> None:
        if n:
            self.events.labels(source=source, outcome=outcome.value).inc(n)
