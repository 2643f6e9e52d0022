"""`amur sim cameras`: the simulated fleet, configured from settings.

``vision/`` never reads configuration itself: the options here default to the
``AMUR_SIM_*`` settings (explicit flags win) and reach
:func:`vision.fleet.server.run_fleet` as typed arguments.
"""

from __future__ import annotations

import errno
import sys
from datetime import datetime, timezone

import click

from stream.cli.params import ZonedTime
from stream.settings import load_settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")



@click.command(name="cameras", help="Serve every camera of the sample as an HTTP snapshot endpoint from one process, "
                                    "with a control API to script events and faults.")
@click.option("--port", type=click.IntRange(1, 65535), help="port to listen on (default AMUR_SIM_CAMERAS_PORT)")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--seed", type=int, help="seed of the fleet's scenes (default AMUR_SIM_SEED)")
@click.option("--speed", type=click.FloatRange(0, min_open=True),
              help="virtual seconds per wall second (default AMUR_SIM_SPEED)")
@click.option("--start", type=ZonedTime(), help="virtual start time, ISO 8601 with zone (default: now)")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              help="log level (default AMUR_LOG_LEVEL)")
def command(port: int | None, host: str, seed: int | None, speed: float | None, start: datetime | None,
            log_level: str | None) -> int:
    from stream.runtime.logs import configure
    from vision.fleet.server import run_fleet

    settings = load_settings()
    port = settings.sim_cameras_port if port is None else port
    configure(log_level or settings.log_level)  # JSON lines on stderr
    try:
        run_fleet(host=host, port=port, seed=settings.sim_seed if seed is None else seed,
                  speed=settings.sim_speed if speed is None else speed, start=start or datetime.now(timezone.utc))
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(f"amur sim cameras: cannot listen on {host}:{port} ({exc.strerror}); set --port or "
              f"AMUR_SIM_CAMERAS_PORT", file=sys.stderr)
        return 2
    return 0
