"""`amur run`: bring the embedded stack up on loopback, watch it, bring it down.

Broker and Redis come first (unless ``AMUR_BROKER_URL`` / ``AMUR_REDIS_URL``
point elsewhere), then topics are created and verified, then every part starts
as a child process with its own log file under the run directory. A part that
exits is restarted with exponential back-off; Ctrl-C or SIGTERM stops all parts
in reverse order. What to start is a pure plan (:func:`plan_parts`); when to
restart is a pure decision (:func:`restart_delay`). With the simulators, on a
broker and Redis of its own, it plays the demonstration
(:func:`demonstration_on`, docs/demonstration.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click

from stream.embedded.services import (
    RunningService,
    die_with_parent,
    require_free_port,
    start_broker,
    start_redis,
)
from stream.errors import ConfigError
from stream.settings import DEVELOPMENT_JWT_SECRET, Settings, load_settings

log = logging.getLogger(__name__)

STABLE_AFTER_S = 60.0
"""A part that ran this long without exiting has its back-off reset."""


@dataclass(frozen=True, slots=True)
class PartSpec:
    """One child process of the stack."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[int, str], ...] = ()
    """Ports the part listens on, each with the variable that moves it."""


@dataclass
class PartState:
    spec: PartSpec
    status: str = "pending"
    restarts: int = 0
    pid: int | None = None
    started_at: float = 0.0
    last_exit: int | None = None
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)


def restart_delay(restarts: int, ran_for_s: float, *, base_s: float = 1.0, cap_s: float = 30.0) -> float:
    """Back-off before restarting a part: 1, 2, 4 ... 30 s; reset after a stable run."""
    if ran_for_s >= STABLE_AFTER_S:
        return base_s
    return min(cap_s, base_s * (2 ** restarts))


def demonstration_on(settings: Settings, *, simulators: bool) -> bool:
    """Whether `amur run` plays the demonstration: asked for (``AMUR_SIM_DEMO``), with the simulators, and on a
    broker and Redis of its own (never on external ones, which may be production's)."""
    return settings.sim_demo and simulators and not settings.broker_url and not settings.redis_url


def plan_parts(settings: Settings, *, simulators: bool = True, python: str = sys.executable,
               demo_key: str | None = None) -> list[PartSpec]:
    """The child processes of the stack, in start order.

    With the demonstration on, workers and gateway run with ``AMUR_DEMONSTRATION`` (every incident an exercise,
    the wall says so) and the feed simulator plays it (``--demo``); ``demo_key`` is the Open311 and 110-feed key
    its citizen report and calls use where none is configured (given to the ingest adapter too).
    """
    amur = (python, "-m", "stream.cli.main")
    demo = demonstration_on(settings, simulators=simulators)
    marked = (("AMUR_DEMONSTRATION", "true"),) if demo else ()
    keyed = tuple((variable, demo_key) for variable, configured in (
        ("AMUR_OPEN311_API_KEYS", settings.open311_api_keys), ("AMUR_FEED110_API_KEYS", settings.feed110_api_keys))
        if demo and demo_key and not configured.get_secret_value().strip())
    parts = [
        PartSpec(f"worker-{i + 1}", (*amur, "worker"),
                 env=(("AMUR_WORKER_WEB_PORT", str(settings.worker_web_port + i)), *marked),
                 ports=((settings.worker_web_port + i, "AMUR_WORKER_WEB_PORT"),))
        for i in range(settings.workers)
    ]
    parts.append(PartSpec("ingest", (*amur, "ingest"), env=keyed,
                          ports=((settings.ingest_http_port, "AMUR_INGEST_HTTP_PORT"),)))
    parts.append(PartSpec("gateway", (*amur, "gateway"), env=marked,
                          ports=((settings.http_port, "AMUR_HTTP_PORT"),
                                 (settings.ws_port or settings.http_port + 1, "AMUR_WS_PORT"))))
    if settings.record:  # the recorder, its own consumer group (docs/drills.md)
        parts.append(PartSpec("recorder", (*amur, "record")))
    if simulators:
        parts.append(PartSpec("sim-cameras", (*amur, "sim", "cameras"),
                              ports=((settings.sim_cameras_port, "AMUR_SIM_CAMERAS_PORT"),)))
        parts.append(PartSpec("sim-feeds", (*amur, "sim", "feeds", "--resume", *(("--demo",) if demo else ())),
                              env=keyed))
    return parts


def status_line(states: list[PartState]) -> str:
    return "  ".join(f"{s.spec.name}:{s.status}" + (f"(x{s.restarts})" if s.restarts else "") for s in states)


class Supervisor:
    """Runs the planned parts until stopped; owns the embedded services."""

    def __init__(self, settings: Settings, parts: list[PartSpec], run_dir: Path) -> None:
        self.settings = settings
        self.parts = [PartState(spec) for spec in parts]
        self.run_dir = run_dir
        self.services: list[RunningService] = []
        self.child_env: dict[str, str] = {}
        self._stopping = asyncio.Event()

    # -- embedded services -------------------------------------------------
    def start_services(self) -> None:
        """Start broker and Redis unless external ones are configured."""
        self.services, self.child_env = start_embedded_services(self.settings, self.run_dir, self._say)

    def stop_services(self) -> None:
        for service in reversed(self.services):
            service.stop()

    # -- parts -------------------------------------------------------------
    async def run(self) -> int:
        for state in self.parts:
            await self._start(state)
        self._write_state()
        self._say(status_line(self.parts))
        watchers = [asyncio.create_task(self._watch(state)) for state in self.parts]
        await self._stopping.wait()
        for task in watchers:
            task.cancel()
        await self._stop_all()
        return 0

    def request_stop(self) -> None:
        self._stopping.set()

    async def _start(self, state: PartState) -> None:
        env = dict(self.child_env)
        env.update(state.spec.env)
        state.process = await asyncio.create_subprocess_exec(
            *state.spec.argv, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log(state.spec.name), stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)
        state.pid, state.status, state.started_at = state.process.pid, "running", time.monotonic()

    async def _watch(self, state: PartState) -> None:
        while not self._stopping.is_set():
            assert state.process is not None
            code = await state.process.wait()
            if self._stopping.is_set():
                return
            ran_for = time.monotonic() - state.started_at
            delay = restart_delay(state.restarts, ran_for)
            state.status, state.last_exit = "restarting", code
            self._say(f"{state.spec.name} exited with {code} after {ran_for:.1f} s; "
                      f"restarting in {delay:.0f} s (log: {self.run_dir / (state.spec.name + '.log')})")
            self._write_state()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                return
            except asyncio.TimeoutError:
                pass
            state.restarts += 1
            await self._start(state)
            self._write_state()
            self._say(status_line(self.parts))

    async def _stop_all(self, timeout_s: float = 10.0) -> None:
        for state in reversed(self.parts):
            if state.process and state.process.returncode is None:
                state.process.send_signal(signal.SIGTERM)
        for state in reversed(self.parts):
            if state.process and state.process.returncode is None:
                try:
                    await asyncio.wait_for(state.process.wait(), timeout_s)
                except asyncio.TimeoutError:
                    state.process.kill()
                    await state.process.wait()
            state.status = "stopped"
        self._write_state()

    # -- reporting -----------------------------------------------------------
    def _log(self, name: str):  # type: ignore[no-untyped-def]
        return open(self.run_dir / f"{name}.log", "ab")

    def _write_state(self) -> None:
        rows = [{"name": s.spec.name, "status": s.status, "pid": s.pid, "restarts": s.restarts,
                 "last_exit": s.last_exit} for s in self.parts]
        (self.run_dir / "state.json").write_text(json.dumps(rows, indent=2))

    @staticmethod
    def _say(message: str) -> None:
        print(f"[amur run {datetime.now(timezone.utc):%H:%M:%S}] {message}", flush=True)


def start_embedded_services(settings: Settings, run_dir: Path, say: Callable[[str], None]
                            ) -> tuple[list[RunningService], dict[str, str]]:
    """Start the embedded broker and Redis where no external ones are configured.

    Returns the started services and the environment for child processes, in
    which ``AMUR_BROKER_URL`` and ``AMUR_REDIS_URL`` always point at what runs.
    """

    services: list[RunningService] = []
    broker_url = settings.broker_url
    try:
        if not broker_url:
            service = start_broker(settings.embedded_broker_port, open(run_dir / "broker.log", "ab"))
            services.append(service)
            broker_url = service.url
            say(f"broker    up at {broker_url} (embedded Tansu, memory-only)")
        redis_url = settings.redis_url
        if not redis_url:
            service = start_redis(settings.embedded_redis_port, run_dir / "redis-data",
                                  open(run_dir / "redis.log", "ab"))
            services.append(service)
            redis_url = service.url + "/0"
            say(f"redis     up at {redis_url}")
    except BaseException:
        for service in reversed(services):
            service.stop()
        raise
    env = dict(os.environ)
    env.update(AMUR_BROKER_URL=broker_url, AMUR_REDIS_URL=redis_url, AMUR_RUN_DIR=str(run_dir))
    if settings.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET:
        env["AMUR_JWT_SECRET"] = own_secret(settings.run_dir / "jwt-secret")
        say(f"secret    operator tokens signed with this installation's own key ({settings.run_dir / 'jwt-secret'})")
    return services, env


def own_secret(path: Path) -> str:
    """This installation's operator-token key: made on first start (owner-only file), the same on every start after.

    The repository's development value would let anyone who read it forge a city-wide token.
    """
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


def login_url(settings: Settings, env: dict[str, str], python: str = sys.executable) -> str:
    """A page URL carrying a city-wide duty-officer token, so the local wall opens at once.

    Issued through `amur token issue` (command_ui owns tokens; stream never imports it).
    """
    token = subprocess.run([python, "-m", "stream.cli.main", "token", "issue", "--role", "duty_officer",
                            "--scope", "231100", "--subject", "local-duty-officer"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    return f"http://{settings.http_host}:{settings.http_port}/#token={token}"


def check_ports(settings: Settings, parts: list[PartSpec]) -> None:
    """Fail fast, in one line, on a taken port."""
    if not settings.broker_url:
        require_free_port(settings.embedded_broker_port, "embedded broker", "AMUR_EMBEDDED_BROKER_PORT")
    if not settings.redis_url:
        require_free_port(settings.embedded_redis_port, "embedded Redis", "AMUR_EMBEDDED_REDIS_PORT")
    for part in parts:
        for port, variable in part.ports:
            require_free_port(port, part.name, variable)


def new_run_dir(base: Path) -> Path:
    run_dir = base / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    latest = base / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
    return run_dir


@click.command(name="run", help="Bring the embedded stack up on loopback (broker, Redis, topics, workers, "
                                "ingest, gateway, simulators), restart parts that exit, stop all on Ctrl-C or SIGTERM.")
@click.option("--workers", type=click.IntRange(1, 64), help="Faust worker processes (default AMUR_WORKERS)")
@click.option("--no-simulators", is_flag=True, help="do not start the feed and camera simulators")
def command(workers: int | None, no_simulators: bool) -> int:
    overrides = {"workers": workers} if workers is not None else {}
    settings = load_settings(**overrides)
    demo = demonstration_on(settings, simulators=not no_simulators)
    own_key = demo and not all(key.get_secret_value().strip()
                               for key in (settings.open311_api_keys, settings.feed110_api_keys))
    parts = plan_parts(settings, simulators=not no_simulators, demo_key=secrets.token_urlsafe(18) if own_key else None)
    try:
        check_ports(settings, parts)
        run_dir = new_run_dir(settings.run_dir)
        supervisor = Supervisor(settings, parts, run_dir)
        supervisor.start_services()
    except ConfigError as exc:
        print(f"amur run: {exc}", file=sys.stderr)
        return 2
    try:
        from stream.runtime.admin import prepare_topics

        settings_for_topics = load_settings(**overrides, broker_url=supervisor.child_env["AMUR_BROKER_URL"],
                                            redis_url=supervisor.child_env["AMUR_REDIS_URL"])
        prepare_topics(settings_for_topics)
        Supervisor._say(f"topics    created and verified; logs in {run_dir}")
        Supervisor._say(f"command view: http://{settings.http_host}:{settings.http_port}/  (Ctrl-C stops everything)")
        Supervisor._say(f"duty officer login (whole city): {login_url(settings, supervisor.child_env)}")
        if demo:
            Supervisor._say("demonstration: in the next minutes a gauge crosses its warning stage, a forestry camera "
                            "sees smoke, a citizen reports it and the 110 centre passes on two calls (every incident an exercise; AMUR_SIM_DEMO=false "
                            "turns it off; docs/demonstration.md)")
        return asyncio.run(_run_until_signal(supervisor))
    except ConfigError as exc:
        print(f"amur run: {exc}", file=sys.stderr)
        return 2
    finally:
        supervisor.stop_services()
        Supervisor._say("stopped")


async def _run_until_signal(supervisor: Supervisor) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.request_stop)
    return await supervisor.run()
