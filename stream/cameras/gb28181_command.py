"""`amur cameras gb28181`: run the GB/T 28181 upper platform on its own, findings to ``vision.findings``.

The catalogue goes to the Redis inventory (:mod:`stream.cameras.channels`);
device alarms and lost devices go to the findings topic, keyed by channel, where
the incidents engine and the wall read them as they read the sampler's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import click
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from prometheus_client import start_http_server

from stream import topics
from stream.runtime.metrics import Metrics
from stream.schemas import FrameSample, SamplingHealth, VisionFinding, encode
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)


class TopicOutputs:
    """The Outputs of the GB/T 28181 service: findings to the findings topic (frames and health are the sampler's)."""

    def __init__(self, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.producer = producer
        self.findings_topic = topics.topic_name(topics.FINDINGS, settings.drill_id)

    async def send_frame(self, sample: FrameSample) -> None:  # pragma: no cover - not produced here
        raise NotImplementedError

    async def send_findings(self, findings: Sequence[VisionFinding]) -> None:
        sends = [await self.producer.send(self.findings_topic, key=f.camera_id.encode(), value=encode(f))
                 for f in findings]
        await asyncio.gather(*sends)

    async def send_health(self, health: SamplingHealth) -> None:  # pragma: no cover - not produced here
        raise NotImplementedError


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    from stream.cameras.channels import ChannelStore
    from stream.cameras.gb28181 import Gb28181Service, grid_lookup
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    cell_of = await asyncio.to_thread(grid_lookup, settings)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=5,
                                **client_options(settings))
    redis = aioredis.from_url(settings.redis_url)
    await producer.start()
    metrics = Metrics()
    if settings.gb28181_metrics_port:  # amur_gb28181_refused_total{reason} and the rest of the worker metrics
        start_http_server(settings.gb28181_metrics_port, addr=settings.gb28181_host, registry=metrics.registry)
    service = Gb28181Service(settings, TopicOutputs(producer, settings), ChannelStore(redis, settings.redis_prefix),
                             cell_of, metrics=metrics)
    try:
        await service.start()
        click.echo(f"GB/T 28181 upper platform {settings.gb28181_platform_id} on "
                   f"{settings.gb28181_host}:{service.server.port} (UDP+TCP), realm {settings.gb28181_realm}")
        await stop.wait()
    finally:
        await service.stop()
        await producer.stop()
        await redis.aclose()


@click.command(name="gb28181", help="Run the GB/T 28181 upper platform (SIP server): devices and lower platforms "
                                    "register here; catalogues feed the inventory, alarms and lost devices the "
                                    "findings. Settings: AMUR_GB28181_* (docs/cameras.md).")
@click.option("--host", help="address to listen on (default AMUR_GB28181_HOST, loopback)")
@click.option("--port", type=click.IntRange(0, 65535), help="SIP port (default AMUR_GB28181_PORT)")
def command(host: str | None, port: int | None) -> int:
    overrides = {k: v for k, v in (("gb28181_host", host), ("gb28181_port", port)) if v is not None}
    settings = load_settings(**overrides)
    from stream.runtime.logs import configure

    configure(settings.log_level)

    run_until_signalled(serve, settings)
    return 0


def run_until_signalled(serve: Callable[[Settings, asyncio.Event], Awaitable[None]], settings: Settings) -> None:
    """Run ``serve(settings, stop)`` until SIGINT or SIGTERM sets ``stop``."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
