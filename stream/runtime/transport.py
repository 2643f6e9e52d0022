"""A Faust transport whose consumer fetch wait comes from configuration, and
whose seek to committed offsets also rewinds partitions that have none.

Faust's aiokafka driver fixes ``fetch_max_wait_ms`` at 1,500 ms. Tansu holds
every fetch for about half of that even when data is waiting, so each Kafka hop
would cost ~360 ms p50; with ~10 ms it costs a few ms (ARCHITECTURE.md). Apache
Kafka answers as soon as data is there, so the small wait is harmless there.
The app built by :func:`stream.runtime.app.build_app` carries the value as
``app.amur_fetch_max_wait_ms``; the broker URL scheme ``amur://`` selects this
transport.

Faust ends every rebalance by seeking stream partitions to their committed
offsets, which throws away whatever the fetcher read while the partitions were
being set up. aiokafka's ``seek_to_committed`` leaves a partition that has no
committed offset where it is, so a worker that takes over before its
predecessor ever committed would skip what was fetched in that window (seen
after a SIGKILL in the incidents test). Such partitions go back to their
beginning, as ``consumer_auto_offset_reset="earliest"`` means.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiokafka
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka

from stream.runtime.offsets import true_end_offsets

log = logging.getLogger(__name__)

DEFAULT_FETCH_MAX_WAIT_MS = 1500
SCHEME = "amur"


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    async def _highwaters(self, partitions: list[Any]) -> Mapping[Any, int]:
        """End offsets corrected for brokers that report the last batch's base (see stream.runtime.offsets)."""
        reported = await super()._highwaters(partitions)
        if self.consumer.in_transaction:
            return reported
        bootstrap = ",".join(faust_aiokafka.server_list(self.transport.url, self.transport.default_port))
        return await true_end_offsets(bootstrap, reported, options=getattr(self.app, "amur_kafka_options", None))

    async def seek_to_committed(self) -> Mapping[Any, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)

    async def _seek_to_committed_or_beginning(self) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        committed = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        never = [tp for tp, offset in committed.items() if not offset and tp.topic not in changelogs]
        if never:
            await consumer.seek_to_beginning(*never)
        return committed

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its Fetcher
        consumer._fetch_max_wait_ms = getattr(self.app, "amur_fetch_max_wait_ms", DEFAULT_FETCH_MAX_WAIT_MS)
        return consumer


def rewinds(read: int | None, offset: int, rewound_to: int | None) -> bool:
    """Whether a record at ``offset`` after the last read offset ``read`` skips records (Faust's own gap test)
    and the partition was not rewound to ``read`` already (then the gap is real, and let through)."""
    return read is not None and offset - read > 1 and rewound_to != read


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        """Faust's batches, but a record past a gap in a partition's offsets rewinds that partition instead.

        After a rebalance, the records Faust hands out may start well past where it just sought the
        partition (seen when a worker took over a killed one's partitions: offsets 22-49 never handed
        out). Faust would acknowledge such a gap as processed (meant for compacted topics and transaction
        markers, which ours are not) and commit past it: those records lost. Here the partition is sought
        back to the last read offset instead and the rest of its batch dropped, so they are read again
        (at most the last one twice: at-least-once). A gap still there after that rewind is let through,
        logged as an error.
        """
        rewinding: set[Any] = set()
        acks_enabled_for = self.app.topics.acks_enabled_for
        async for tp, message in super().getmany(timeout):
            if tp in rewinding:
                continue
            read = self._read_offset.get(tp)
            # only where Faust would acknowledge the gap: a compacted changelog's gaps are real and not acked
            if rewinds(read, message.offset, self._rewound.get(tp)) and acks_enabled_for(message.topic):
                log.warning("offset gap after a rebalance topic=%s partition=%s read=%s next=%s: re-reading it",
                            tp.topic, tp.partition, read, message.offset)
                self._rewound[tp] = read
                rewinding.add(tp)
                await self.seek(tp, read)
                continue
            yield tp, message

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        log.error("offset gap acknowledged unprocessed topic=%s partition=%s from=%s to=%s",
                  tp.topic, tp.partition, offset_from, offset_to)
        await super()._add_gap(tp, offset_from, offset_to)

    @property
    def _rewound(self) -> dict[Any, int]:
        """Partition -> the read offset it was last rewound to (one rewind per gap)."""
        found = self.__dict__.get("_amur_rewound")
        if found is None:
            found = self.__dict__["_amur_rewound"] = {}
        return found


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")


def faust_broker_url(kafka_url: str) -> str:
    """``kafka://h:p[;kafka://h2:p2]`` -> the same servers on this transport."""
    servers = [part.split("://", 1)[-1] for part in kafka_url.replace(",", ";").split(";") if part]
    return ";".join(f"{SCHEME}://{server}" for server in servers)
