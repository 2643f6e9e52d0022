"""`amur gateway`: the websocket gateway, REST and the page, in one process.

Ports: the page and REST answer on ``http_port`` (default 8080, so the page is
http://127.0.0.1:8080/); the websocket on ``ws_port`` (default ``http_port + 1``).
The ``websockets`` package owns its listening socket, so it cannot share aiohttp's
port; the page learns the websocket port from ``/config.json``. Run as many
gateway processes as needed: each reads Redis on its own.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click
import orjson
import redis.asyncio as aioredis
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from websockets.asyncio.server import Server, serve

from command_ui.errors import CommandRefused
from command_ui.hub import Catalogue, Hub, HubMetrics
from command_ui.inventory import WallCameras, follow_inventory
from command_ui.live import LIVE_REASON, LivePolicy
from command_ui.mapdata import build_page_data
from command_ui.ratelimit import RateLimit
from command_ui.rest import RestApi
from command_ui.ws import WebsocketGateway
from gis.registry import load_cameras
from stream import schemas, topics
from stream.cameras.channels import InventoryWatcher
from stream.incidents.places import load_places
from stream.incidents.signature import sign_command
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers
from stream.runtime.app import kafka_url
from stream.runtime.kafkaauth import client_options
from stream.screens.projection import Keys
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)


def ws_port_of(settings: Settings) -> int:
    return settings.ws_port or settings.http_port + 1


def allowed_origins(settings: Settings) -> list[str | None]:
    """The page's own origins, the configured extras, and None (non-browser clients send no Origin)."""
    port = settings.http_port
    own = {f"http://{settings.http_host}:{port}", f"http://127.0.0.1:{port}", f"http://localhost:{port}"}
    extra = {o.strip() for o in settings.allowed_origins.split(",") if o.strip()}
    return [*sorted(own | extra), None]


def redis_url_of(settings: Settings) -> str:
    return settings.redis_url or f"redis://127.0.0.1:{settings.embedded_redis_port}/0"


COMMAND_SEND_TIMEOUT_S = 10.0
"""A command the broker has not taken in this time is refused (``unavailable``), never left hanging."""


async def reach_broker(producer: AIOKafkaProducer, reached: asyncio.Event, *, first_s: float = 1.0,
                       cap_s: float = 30.0) -> None:
    """Start ``producer``, retrying with back-off (one log line per try), then set ``reached``."""
    delay = first_s
    while True:
        await asyncio.sleep(delay)
        try:
            await producer.start()
        except KafkaError as exc:
            delay = min(cap_s, delay * 2)
            log.warning("broker still unreachable error=%s retry_in_s=%.0f", exc, delay)
            continue
        reached.set()
        log.info("broker reached; commands accepted")
        return


def build_catalogue() -> Catalogue:
    registry = load_registry()
    return Catalogue(
        camera_ids=frozenset(c.camera_id for c in load_cameras()),
        source_dimension={s.source_id: s.dimension for s in registry.sources.values()},
        domain_dimension={dom: dim for dim, doms in registry.dimensions.items() for dom in doms},
    )


@dataclass
class Gateway:
    """A running gateway; :meth:`stop` undoes :func:`start_gateway`."""

    hub: Hub
    ws_server: Server
    runner: web.AppRunner
    producer: AIOKafkaProducer
    tasks: tuple[asyncio.Task[None], ...]
    http_port: int
    ws_port: int
    settings: Settings | None = None

    async def stop(self) -> None:
        pending = set(self.tasks)
        while pending:  # cancel until done: the Redis client can swallow a cancellation mid-command
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        self.ws_server.close()
        await self.ws_server.wait_closed()
        await self.runner.cleanup()
        await self.producer.stop()
        await self.hub.client.aclose()


async def start_gateway(settings: Settings) -> Gateway:
    """Connect to Redis and the broker, start the hub, the websocket server and REST."""
    client = aioredis.from_url(redis_url_of(settings))
    registry = CollectorRegistry()
    catalogue = build_catalogue()
    hub = Hub(client, Keys(settings.redis_prefix), catalogue, HubMetrics(registry),
              outbox_capacity=settings.gateway_client_queue, fault_hold_s=settings.camera_fault_hold_s,
              drill=settings.drill_id is not None, demo=settings.demonstration)
    await hub.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=0,
                                **client_options(settings))
    reached = asyncio.Event()
    try:
        await producer.start()
        reached.set()
    except KafkaError as exc:  # the page and the wall work without the broker; commands wait for it
        log.warning("broker unreachable at start-up error=%s; commands are refused until it answers", exc)
    command_topic = topics.topic_name(topics.COMMANDS, settings.drill_id)
    secret = settings.jwt_secret.get_secret_value()

    async def produce(command: schemas.OperatorCommand) -> None:  # signed: the stream applies only signed ones
        if not reached.is_set():
            raise CommandRefused("unavailable", "the command topic cannot be reached now; send it again later")
        try:
            await asyncio.wait_for(producer.send_and_wait(command_topic, schemas.encode(sign_command(command, secret)),
                                                          key=command.incident_id.encode()), COMMAND_SEND_TIMEOUT_S)
        except (KafkaError, TimeoutError):
            raise CommandRefused("unavailable", f"the broker did not take the command within "
                                                f"{COMMAND_SEND_TIMEOUT_S:.0f} s; send it again") from None

    limit = RateLimit(settings.gateway_commands_per_minute / 60.0, settings.gateway_command_burst)
    gateway = WebsocketGateway(hub, secret, limit, produce)
    ws_port = ws_port_of(settings)
    ws_server = await serve(gateway.handle, settings.http_host, ws_port, origins=allowed_origins(settings),
                            max_size=settings.gateway_max_message_bytes, write_limit=64 * 1024)
    priority_topic = topics.topic_name(topics.CAMERA_PRIORITY, settings.drill_id)

    async def claim(camera_id: str, priority: float, until: datetime | None) -> None:
        """A live view's claim on the sampler (reason ``live view``; priority 0 withdraws it)."""
        event = schemas.CameraPriority(source="gateway", event_time=datetime.now(timezone.utc), camera_id=camera_id,
                                       priority=priority, reason=LIVE_REASON, until=until)
        await producer.send_and_wait(priority_topic, schemas.encode(event), key=camera_id.encode())

    page = build_page_data()
    registry_cells = {c.camera_id: c.cell_code for c in load_cameras()}
    cameras = WallCameras(orjson.loads(page.cameras), registry_cells)  # + the inventory's channels, followed
    rest = RestApi(hub, page, secret, registry, ws_port, catalogue.camera_ids,
                   cap_sender=settings.cap_sender, cap_zone=ZoneInfo(settings.cap_timezone),
                   cap_places=lambda: load_places(settings.incident_places, settings.gis_manifest),
                   ws_url=settings.public_ws_url,
                   camera_cells=registry_cells,
                   live=LivePolicy(settings.gateway_live_fps, settings.gateway_live_max_streams), claim=claim,
                   inventory=cameras)
    runner = web.AppRunner(rest.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    tasks = (asyncio.create_task(hub.run_tail(), name="hub-tail"),
             asyncio.create_task(hub.run_kpis(), name="hub-kpis"),
             *(() if reached.is_set() else (asyncio.create_task(reach_broker(producer, reached), name="broker"),)),
             *((asyncio.create_task(follow_inventory(InventoryWatcher(client, settings.redis_prefix), cameras,
                                                     settings.vision_inventory_refresh_s), name="inventory"),)
               if settings.vision_inventory_refresh_s else ()))
    log.info("gateway page=http://%s:%s/ ws_port=%s", settings.http_host, settings.http_port, ws_port)
    return Gateway(hub, ws_server, runner, producer, tasks, settings.http_port, ws_port, settings)


async def _serve(settings: Settings) -> None:
    gateway = await start_gateway(settings)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    print(f"command view at http://{settings.http_host}:{settings.http_port}/ "
          f"(websocket port {gateway.ws_port})", flush=True)
    await stopped.wait()
    await gateway.stop()


@click.command(name="gateway", help="Serve the command view (page, REST and websocket) until SIGINT/SIGTERM.\n\n"
               "It reads Redis (AMUR_REDIS_URL) and sends operator commands to the broker (AMUR_BROKER_URL); "
               "the websocket listens on AMUR_WS_PORT (default: the HTTP port + 1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="HTTP port (overrides AMUR_HTTP_PORT)")
def command(port: int | None) -> int:
    settings = load_settings(**({"http_port": port} if port is not None else {}))
    from stream.runtime.logs import configure

    configure(settings.log_level)
    try:
        asyncio.run(_serve(settings))
    except OSError as exc:
        click.echo(f"amur gateway: {exc}", err=True)
        return 2
    return 0
