"""The ``amur`` command: one click group tree, each command imported only when it runs.

Why click: Faust's own command line is click (already installed, pinned below 8.4),
and click gives what a user tries first for free: ``--help`` on every group and
command, typed options whose errors name the option and the value, shell
completion (``eval "$(_AMUR_COMPLETE=bash_source amur)"``) and progress bars.

Each command is a ``click.Command`` in the module that owns it, named here by
``module:attribute`` with its one-line help, so ``amur fwi`` never imports Faust
and ``amur run`` never imports OpenCV; ``--help`` of a group lists its commands
without importing any of them. A command returns its exit code (0 done, 1 the
check found problems, 2 refused input).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Union

import click
from pydantic import ValidationError

Tree = Mapping[str, Union[tuple[str, str], "Group"]]


class Group:
    """A named set of commands: ``amur hydro ...``."""

    def __init__(self, help_: str, commands: Tree) -> None:
        self.help = help_
        self.commands = commands


COMMANDS: Tree = {
    "run": ("stream.embedded.supervisor:command",
            "start the embedded stack (broker, Redis, workers, simulators, gateway)"),
    "config": ("stream.settings:command", "print the effective configuration, secrets masked"),
    "worker": ("stream.runtime.worker:command", "run one Faust worker"),
    "broker": ("stream.embedded.services:broker_command", "run the embedded Kafka-protocol broker in the foreground"),
    "redis": ("stream.embedded.services:redis_command", "run the embedded Redis in the foreground"),
    "topics": ("stream.runtime.admin:command", "create and verify every topic"),
    "ingest": ("stream.ingest.http.server:command", "run the HTTP batch-ingest adapter (and Open311)"),
    "sampler": ("stream.cameras.sampler:command", "sample camera frames under the risk-driven budget"),
    "cameras": Group("real cameras: GB/T 28181 platform, ONVIF devices", {
        "gb28181": ("stream.cameras.gb28181_command:command",
                    "run the GB/T 28181 upper platform (SIP server) for devices and lower platforms"),
        "discover": ("stream.cameras.onvif_command:discover_command",
                     "WS-Discovery of ONVIF devices on a named subnet (lists only)"),
        "onvif": ("stream.cameras.onvif_command:onvif_command",
                  "read an ONVIF device's profiles, snapshot/stream URIs and faults"),
        "onvif-events": ("stream.cameras.onvif_events:command",
                         "follow ONVIF devices' events (tamper, signal loss, image quality) as findings"),
    }),
    "gateway": ("command_ui.server:command", "run the websocket/REST gateway and the page"),
    "drill": ("stream.drills.drill:command", "replay a recorded day or a scenario as an exercise, and report"),
    "record": ("stream.drills.recorder:command", "archive the live input (frames with images) for drills; verify one"),
    "sim": Group("simulators of the bundled Heihe sample", {
        "feeds": ("stream.sim.feeds:command", "simulate sensors, weather stations and river gauges"),
        "cameras": ("stream.sim.cameras:command", "serve the simulated 5,000-camera fleet on loopback"),
    }),
    "alerts": Group("incidents, read from the incidents topic", {
        "list": ("stream.cli.alerts:list_command", "print incidents (a table, or JSON lines)"),
        "cap": ("stream.cli.alerts:cap_command", "print an incident's latest CAP 1.2 message"),
    }),
    "deadletter": Group("refused input: read it, correct it, send it back", {
        "tail": ("stream.cli.deadletter:tail_command",
                 "print dead letters (time, source, reason, raw), optionally following and filtered by reason"),
        "replay": ("stream.cli.deadletter:replay_command", "send corrected dead letters back to the raw-ingest topic"),
    }),
    "audit": Group("the hash-chained audit log", {
        "verify": ("stream.cli.audit:verify_command", "verify the hash chain of the audit log"),
    }),
    "token": Group("operator tokens for the gateway", {
        "issue": ("command_ui.tokens:issue_command", "issue a signed operator token"),
    }),
    "gis": Group("GIS layers", {
        "check": ("gis.cli:check_command", "load and validate a layer set"),
        "generate": ("gis.sample.generate:command", "regenerate the bundled Heihe sample layers"),
    }),
    "fwi": ("gis.fwi_cli:command", "Canadian FWI System over a daily weather CSV"),
    "hydro": Group("hydrology: crests, routing, calibration", {
        "crests": ("gis.hydro.cli:crests_command", "detect crests in a time,stage CSV"),
        "route": ("gis.hydro.cli:route_command", "Muskingum routing of a time,inflow CSV"),
        "calibrate": ("gis.hydro.cli:calibrate_command", "estimate Muskingum K and X from a past flood"),
    }),
    "vision": Group("frame analysis", {
        "analyze": ("vision.cli:command", "analyse images for fire, smoke and camera health"),
        "train": ("vision.train:command", "train the fire/smoke classifier (training extras)"),
        "train-network": ("vision.network_train:command", "train the patch network's head (training extras)"),
        "evaluate": ("vision.evaluate:command", "leave-one-source-out figures: network, classifier, colour rules"),
    }),
    "bench": Group("the measured figures: each prints its own and the limit it compares with", {
        "ingest": ("stream.bench.ingest:command", "readings/s through validation and routing vs raw consume"),
        "record": ("stream.bench.record:command", "ingest readings/s with and without the drill recorder running"),
        "grid": ("gis.bench:command", "point->cell assignment and grid rescoring speed"),
        "vision": ("vision.bench:command", "decode+analysis frames/s vs decode alone"),
        "fleet": ("stream.bench.fleet:command", "end-to-end fleet sampling rate and frame age"),
        "hydro": ("stream.bench.hydro:command", "hydrology pipeline readings/s on the crest-5 scenario"),
        "incidents": ("stream.bench.incidents:command", "incident fusion cost per evidence input"),
        "dispatch": ("stream.bench.dispatch:command", "Open311 intake p50/p99 and requests/s vs raw produce"),
        "risk": ("stream.bench.risk:command", "whole-grid risk rescoring from a Heihe-scale input snapshot"),
        "screen": ("command_ui.bench:command", "reading -> incident-on-screen latency"),
    }),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported when chosen, listed from the table above."""

    def __init__(self, *args: object, tree: Tree, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.tree = tree

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.tree)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = self.tree.get(name)
        if entry is None:
            return None
        if isinstance(entry, Group):
            return LazyGroup(name=name, help=entry.help, tree=entry.commands)
        return load(entry[0])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry.help if isinstance(entry, Group) else entry[1]) for name, entry in self.tree.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def resolve(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """The ``module:attribute`` of the command that ``argv`` names, and the arguments left; None if none."""
    tree: Tree = COMMANDS
    for depth, word in enumerate(argv):
        entry = tree.get(word)
        if entry is None:
            return None
        if not isinstance(entry, Group):
            return entry[0], list(argv[depth + 1:])
        tree = entry.commands
    return None


def command_path(argv: Sequence[str]) -> str:
    """``amur`` and the words of ``argv`` that name a group or command: where an error belongs."""
    words, tree = ["amur"], COMMANDS
    for word in argv:
        entry = tree.get(word)
        if entry is None:
            break
        words.append(word)
        if not isinstance(entry, Group):
            break
        tree = entry.commands
    return " ".join(words)


def load(target: str) -> click.Command:
    module_name, attribute = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise click.ClickException(f"{module_name} is not in this build") from exc
        raise
    command = getattr(module, attribute)
    assert isinstance(command, click.Command), f"{target} is not a click command"
    return command


amur = LazyGroup(name="amur", tree=COMMANDS,
                 help="Amur, the emergency command backend: the embedded stack, its parts, and the tools around it.",
                 context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``amur`` with ``argv``; return the exit code. Usage errors are one line and exit 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = amur.main(args=args, prog_name="amur", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=False)
        return 0
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else command_path(args)
        message = " ".join(exc.format_message().split())  # some click messages list choices on lines of their own
        click.echo(f"{where}: error: {message} (see '{where} --help')", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"amur: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except ValidationError as exc:  # settings refused (AMUR_* variables): one line per field, no traceback
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        click.echo(f"amur: error: configuration refused: {problems}", err=True)
        return 2
    except click.Abort:
        click.echo("amur: aborted", err=True)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
