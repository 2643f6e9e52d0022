"""Builds the Faust app and the runtime every agent module registers on.

The app is built in ``main`` from :class:`Settings` (never at import time), so
tests, drills and benchmarks can build as many as they need. Each agent module
under ``stream/agents/`` exposes ``register(rt: Runtime) -> None`` and defines
its agents and tables on ``rt.app`` there; agents only decode, call a pure
function and send.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from stream import topics as topic_specs
from stream.runtime.kafkaauth import client_options, faust_credentials
from stream.runtime.metrics import Metrics
from stream.runtime.transport import faust_broker_url
from stream.settings import Settings
from stream.topics import TopicSpec

log = logging.getLogger(__name__)

#: Agent modules wired into a worker, in dependency order.
AGENT_MODULES: tuple[str, ...] = (
    "stream.agents.ingest",
    "stream.agents.hydro",
    "stream.agents.risk",
    "stream.agents.vision",
    "stream.agents.incidents",
    "stream.agents.dispatch",
    "stream.agents.projection",
)


@dataclass
class Runtime:
    """What agent modules need: the app, settings, metrics and topics by spec."""

    settings: Settings
    app: faust.App
    metrics: Metrics
    _topics: dict[str, Any] = field(default_factory=dict)

    def topic_name(self, spec: TopicSpec) -> str:
        return topic_specs.topic_name(spec, self.settings.drill_id)

    def topic(self, spec: TopicSpec) -> Any:
        """The Faust topic for ``spec`` (raw bytes; agents decode with ``stream.schemas``)."""
        found = self._topics.get(spec.name)
        if found is None:
            found = self._topics[spec.name] = self.app.topic(
                self.topic_name(spec),
                partitions=topic_specs.partitions_for(spec, self.settings.partitions),
                key_serializer="raw",
                value_serializer="raw",
                replicas=1,
            )
        return found

    def redis_url(self) -> str:
        if not self.settings.redis_url:
            raise RuntimeError("AMUR_REDIS_URL is not set (the supervisor and tests set it)")
        return self.settings.redis_url


def kafka_url(settings: Settings) -> str:
    return settings.broker_url or f"kafka://127.0.0.1:{settings.embedded_broker_port}"


def build_app(settings: Settings, agent_modules: Iterable[str] | None = None) -> Runtime:
    """A Faust app configured for the broker's known behaviour, with agents registered."""
    app = faust.App(
        settings.effective_app_id,
        broker=faust_broker_url(kafka_url(settings)),
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        key_serializer="raw",
        value_serializer="raw",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.session_timeout_s / 6),
        broker_request_timeout=settings.request_timeout_s,
        broker_rebalance_timeout=max(settings.session_timeout_s * 2, 10.0),
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        producer_linger=0.005,
        table_cleanup_interval=30.0,
        web_host="127.0.0.1",
        web_port=settings.worker_web_port,
        web_in_thread=False,
        timezone="UTC",
        TableManager="stream.runtime.recovery:TableManager",  # seeks before resuming after recovery (see there)
        broker_credentials=faust_credentials(settings),
    )
    app.amur_fetch_max_wait_ms = settings.fetch_max_wait_ms  # read by stream.runtime.transport
    app.amur_kafka_options = client_options(settings)  # SASL for the clients of our own (transport, agents)
    metrics = Metrics()
    setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.registry, name_prefix="faust")
    rt = Runtime(settings=settings, app=app, metrics=metrics)
    for spec in topic_specs.ALL:
        rt.topic(spec)
    for module_name in AGENT_MODULES if agent_modules is None else agent_modules:
        importlib.import_module(module_name).register(rt)
    return rt


def expected_topics(rt: Runtime) -> dict[str, int]:
    """Every topic the worker uses (sources and table changelogs) -> partition count."""
    wanted = {rt.topic_name(spec): topic_specs.partitions_for(spec, rt.settings.partitions)
              for spec in topic_specs.ALL}
    for table in rt.app.tables.values():
        wanted[table.changelog_topic.get_topic_name()] = table.partitions or rt.settings.partitions
    return wanted
