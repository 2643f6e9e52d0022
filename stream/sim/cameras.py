"""`amur sim cameras`: the simulated fleet, configured from settings.

``vision/`` never reads configuration itself; this shell passes the
``AMUR_SIM_*`` values as flags (explicit flags win).
"""

from __future__ import annotations

from stream.settings import load_settings


def fleet_argv(argv: list[str], port: int, seed: int, speed: float) -> list[str]:
    """The fleet's flags: settings first, so anything given explicitly overrides them."""
    return ["--port", str(port), "--seed", str(seed), "--speed", str(speed), *argv]


def main(argv: list[str] | None = None) -> int:
    from stream.runtime.logs import configure
    from vision.fleet.server import main as fleet_main

    settings = load_settings()
    configure(settings.log_level)  # JSON lines; the fleet's own basicConfig is then a no-op
    return fleet_main(fleet_argv(list(argv or []), settings.sim_cameras_port, settings.sim_seed, settings.sim_speed))
