"""A worker notices a broker that came back without its topics, and restarts itself on the new one.

The embedded broker (Tansu) keeps nothing on disk: restarted, it is an empty broker on the
same address, with no topics, no committed offsets and no table changelogs. A Faust worker
that had joined the old one does not resume on it (seen: it stays connected and idle). So
every worker checks, every ``AMUR_BROKER_WATCH_S``, that the broker still has the topics it
verified at start-up. When some are gone it re-creates them with their declared partition
counts (before a producer's first write auto-creates one with the broker's default count),
logs one line, and exits with :data:`EXIT_BROKER_LOST`; `amur run` (or the container's
restart policy) starts it again, and the new worker joins the new broker from the
beginning of the (empty) topics: what is accepted after the broker returned is processed.
What the old broker held is gone with it: that is what memory-only means (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Collection, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from stream.runtime.admin import bootstrap_servers, ensure_topics
from stream.runtime.app import Runtime, kafka_url
from stream.runtime.kafkaauth import client_options

log = logging.getLogger(__name__)

EXIT_BROKER_LOST = 3
"""The exit code of a worker whose broker lost its topics: restart me."""


def lost_topics(wanted: Collection[str], present: Collection[str]) -> list[str]:
    """The worker's topics the broker no longer has, sorted."""
    return sorted(set(wanted) - set(present))


async def present_topics(bootstrap: str, options: Mapping[str, Any]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **options)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def install(rt: Runtime, wanted: Mapping[str, int]) -> None:
    """The watch timer on ``rt.app``, for the topics ``wanted`` (name -> partitions) verified at start-up."""
    bootstrap, options = bootstrap_servers(kafka_url(rt.settings)), client_options(rt.settings)

    @rt.app.timer(rt.settings.broker_watch_s, name="watch_broker")
    async def watch_broker() -> None:
        try:
            lost = lost_topics(wanted, await present_topics(bootstrap, options))
            if not lost:
                return
            await ensure_topics(bootstrap, {name: wanted[name] for name in lost}, options)
        except KafkaError as exc:  # unreachable: the clients retry; nothing to decide until it answers
            log.warning("broker unreachable error=%s", exc)
            return
        log.error("broker lost topics (a memory-only broker restarted empty?) lost=%s first=%s: re-created them; "
                  "exiting with %s to restart on the new broker", len(lost), lost[0], EXIT_BROKER_LOST)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(EXIT_BROKER_LOST)  # the old group, offsets and changelogs are gone: nothing left to stop cleanly
