"""`amur worker`: verify the topics, then run one Faust worker."""

from __future__ import annotations

import sys

import click

from stream.errors import ConfigError
from stream.runtime.admin import prepare_topics
from stream.settings import load_settings


@click.command(name="worker", help="Create and verify every topic, then run one Faust worker of the configured "
                                   "app (AMUR_* settings; its HTTP port is AMUR_WORKER_WEB_PORT).")
def command() -> int:
    from faust.worker import Worker

    from stream.runtime.app import build_app

    settings = load_settings()
    try:
        prepare_topics(settings)
    except ConfigError as exc:
        print(f"amur worker: {exc}", file=sys.stderr)
        return 2
    rt = build_app(settings)
    from stream.runtime.logs import logging_config

    worker = Worker(rt.app, loglevel=settings.log_level.lower(), quiet=True,
                    logging_config=logging_config(settings.log_level))
    worker.execute_from_commandline()  # exits the process when the worker stops
    return 0
