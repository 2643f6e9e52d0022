"""`amur worker`: wait for the broker, create and verify the topics, then run one Faust worker.

A worker started while the broker is unreachable does not exit: it retries with back-off
(1, 2, 4 … 30 s, one log line per try) and starts processing once the broker answers, so
a broker that comes up after its workers needs no manual step (docs/RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping, Sequence

import click
from aiokafka.errors import KafkaError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from stream.errors import ConfigError
from stream.runtime.admin import verify_topics
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)

FIRST_RETRY_S, LONGEST_RETRY_S = 1.0, 30.0


def _say_retry(state: RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action else 0.0
    error = state.outcome.exception() if state.outcome else None
    log.warning("broker unreachable at start-up attempt=%s error=%s retry_in_s=%.0f",
                state.attempt_number, error, wait)


def verify_topics_when_reachable(settings: Settings, wanted: Mapping[str, int]) -> None:
    """:func:`verify_topics`, retried with back-off for as long as the broker cannot be reached.

    A partition-count mismatch (``ConfigError``) is not retried: it needs an operator.
    """
    retrying = Retrying(retry=retry_if_exception_type(KafkaError), reraise=True,
                        wait=wait_exponential(multiplier=FIRST_RETRY_S, max=LONGEST_RETRY_S),
                        before_sleep=_say_retry)
    retrying(lambda: asyncio.run(verify_topics(settings, wanted)))
    log.info("broker reached; topics verified count=%s", len(wanted))


def run(settings: Settings, agent_modules: Sequence[str] | None = None) -> int:
    """Wait for the broker, verify the topics and run a worker of ``agent_modules`` (all by default)."""
    from faust.worker import Worker

    from stream.runtime.app import build_app, expected_topics
    from stream.runtime.logs import configure, logging_config

    configure(settings.log_level)  # the retry lines are JSON like the worker's own
    from stream.runtime import brokerwatch

    try:
        rt = build_app(settings, agent_modules)  # a refused data file (e.g. the responsibility list) stops here
        wanted = expected_topics(rt)
        verify_topics_when_reachable(settings, wanted)
    except ConfigError as exc:
        print(f"amur worker: {exc}", file=sys.stderr)
        return 2
    brokerwatch.install(rt, wanted)
    # no redirect of stdout/stderr into logging: the JSON handler writes to stderr, and through the
    # redirect every line after start-up was swallowed by its recursion guard
    worker = Worker(rt.app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
                    logging_config=logging_config(settings.log_level))
    worker.execute_from_commandline()  # exits the process when the worker stops
    return 0


@click.command(name="worker", help="Create and verify every topic, then run one Faust worker of the configured "
                                   "app (AMUR_* settings; its HTTP port is AMUR_WORKER_WEB_PORT). While the broker "
                                   "is unreachable it retries with back-off.")
def command() -> int:
    return run(load_settings())
