"""Create every topic explicitly, then verify partition counts before workers run.

A topic auto-created by the broker on first metadata request gets the broker's
default partition count; a worker whose source topic and table changelog then
differ silently miscounts keys (ARCHITECTURE.md). So topics are created here,
with their declared counts, and a mismatch refuses to run, naming the topic
(`amur topics` does this alone).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any

import click
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from stream.errors import ConfigError
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)


def partition_mismatches(wanted: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    """Human-readable problems: topics missing or with another partition count."""
    problems = []
    for name, count in sorted(wanted.items()):
        have = actual.get(name)
        if have is None:
            problems.append(f"topic {name} does not exist")
        elif have != count:
            problems.append(f"topic {name} has {have} partitions, expected {count}")
    return problems


async def ensure_topics(bootstrap: str, wanted: Mapping[str, int],
                        options: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Create missing topics; return the actual partition counts of ``wanted`` (``options``: SASL)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **(options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, count, 1) for name, count in wanted.items() if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created it first
            log.info("created topics count=%s", len(missing))
        return await _partition_counts(admin, list(wanted))
    finally:
        await admin.close()


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for attempt in range(50):
        described = await admin.describe_topics(names)
        counts = {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}
        if len(counts) == len(names):
            break
        await asyncio.sleep(0.1)
    return counts


def bootstrap_servers(kafka_url: str) -> str:
    return ",".join(part.split("://", 1)[-1] for part in kafka_url.replace(";", ",").split(",") if part)


def prepare_topics(settings: Settings, agent_modules: list[str] | None = None) -> dict[str, int]:
    """Create and verify every topic a worker of ``settings`` needs; raise on mismatch."""
    return asyncio.run(prepare_topics_async(settings, agent_modules))


async def prepare_topics_async(settings: Settings, agent_modules: list[str] | None = None) -> dict[str, int]:
    from stream.runtime.app import build_app, expected_topics

    return await verify_topics(settings, expected_topics(build_app(settings, agent_modules)))


async def verify_topics(settings: Settings, wanted: Mapping[str, int]) -> dict[str, int]:
    """Create the missing ones of ``wanted`` and check every count; raise :class:`ConfigError` on a mismatch."""
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    actual = await ensure_topics(bootstrap_servers(kafka_url(settings)), wanted, client_options(settings))
    problems = partition_mismatches(wanted, actual)
    if problems:
        raise ConfigError("; ".join(problems) + " (delete the topic or set AMUR_PARTITIONS to match)")
    return actual


@click.command(name="topics", help="Create every topic with its declared partition count, verify the counts, "
                                   "and print each topic and its count.")
def command() -> int:
    try:
        actual = prepare_topics(load_settings())
    except ConfigError as exc:
        print(f"amur topics: {exc}", file=sys.stderr)
        return 2
    for name, count in sorted(actual.items()):
        print(f"{name}\t{count}")
    return 0
