"""The ``amur`` command: one console script, subcommands resolved lazily.

Each subcommand is a ``main(argv) -> int`` in the module that owns it, so
``amur fwi`` never imports Faust and ``amur run`` never imports OpenCV.
"""

from __future__ import annotations

import importlib
import sys

#: subcommand -> (module:function, one-line help). Nested groups use a space.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("stream.embedded.supervisor:main", "start the embedded stack (broker, Redis, workers, simulators, gateway)"),
    "config": ("stream.settings:main", "print the effective configuration, secrets masked"),
    "worker": ("stream.runtime.worker:main", "run one Faust worker"),
    "broker": ("stream.embedded.services:broker_main", "run the embedded Kafka-protocol broker in the foreground"),
    "redis": ("stream.embedded.services:redis_main", "run the embedded Redis in the foreground"),
    "topics": ("stream.runtime.admin:main", "create and verify every topic"),
    "ingest": ("stream.ingest.http.server:main", "run the HTTP batch-ingest adapter"),
    "sim feeds": ("stream.sim.feeds:main", "simulate sensors, weather stations and river gauges"),
    "sim cameras": ("stream.sim.cameras:main", "serve the simulated 5,000-camera fleet on loopback"),
    "sampler": ("stream.cameras.sampler:main", "sample camera frames under the risk-driven budget"),
    "bench ingest": ("stream.bench.ingest:main", "readings/s through validation and routing vs raw consume"),
    "bench grid": ("gis.bench:main", "point->cell assignment and grid rescoring speed"),
    "bench vision": ("vision.bench:main", "decode+analysis frames/s vs decode alone"),
    "bench fleet": ("stream.bench.fleet:main", "end-to-end fleet sampling rate and frame age"),
    "bench hydro": ("stream.bench.hydro:main", "hydrology pipeline readings/s on the crest-5 scenario"),
    "bench incidents": ("stream.bench.incidents:main", "incident fusion cost per evidence input"),
    "bench risk": ("stream.bench.risk:main", "whole-grid risk rescoring from a Heihe-scale input snapshot"),
    "bench screen": ("command_ui.bench:main", "reading -> incident-on-screen latency"),
    "gis generate": ("gis.sample.generate:main", "regenerate the bundled Heihe sample layers"),
    "gis check": ("gis.cli:check_main", "load and validate a layer set"),
    "fwi": ("gis.fwi_cli:main", "Canadian FWI System over a daily weather CSV"),
    "hydro crests": ("gis.hydro.cli:crests_main", "detect crests in a time,stage CSV"),
    "hydro route": ("gis.hydro.cli:route_main", "Muskingum routing of a time,inflow CSV"),
    "hydro calibrate": ("gis.hydro.cli:calibrate_main", "estimate Muskingum K and X from a past flood"),
    "vision analyze": ("vision.cli:main", "analyse images for fire, smoke and camera health"),
    "vision train": ("vision.train:main", "train the fire/smoke classifier (training extras)"),
    "alerts list": ("stream.cli.alerts:list_main", "print incidents as JSON lines"),
    "alerts cap": ("stream.cli.alerts:cap_main", "print an incident's latest CAP 1.2 message"),
    "audit verify": ("stream.incidents.audit:verify_main", "verify the hash chain of the audit log"),
    "token issue": ("command_ui.tokens:issue_main", "issue a signed operator token"),
    "gateway": ("command_ui.server:main", "run the websocket/REST gateway and the page"),
    "drill": ("stream.drills.drill:main", "replay a recorded day or a scenario as an exercise"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: amur COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    """Pick the longest subcommand matching the start of ``argv``."""
    for words in (2, 1):
        name = " ".join(argv[:words])
        if len(argv) >= words and name in COMMANDS:
            return name, argv[words:]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    found = resolve(argv)
    if found is None:
        print(f"amur: unknown command {' '.join(argv[:2])!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    name, rest = found
    target, _ = COMMANDS[name]
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"amur: '{name}' is not available in this build ({module_name} missing)", file=sys.stderr)
            return 2
        raise
    result = getattr(module, func_name)(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
