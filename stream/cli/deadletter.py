"""`amur deadletter tail` and `amur deadletter replay`: what was refused, and sending it back once corrected.

``tail`` reads the dead-letter topic from the beginning (no consumer group, nothing
committed) and prints one line per letter: time, source, where it came in, reason,
field=value and the raw payload; ``--json`` prints the letters as JSON lines instead,
which is also what ``replay`` reads. ``--follow`` keeps printing new letters until
Ctrl-C. ``replay FILE`` (``-`` = stdin) sends the ``raw`` of each letter, as corrected
in the file, back to the raw-ingest topic keyed by its source, where the workers
validate it again like any input (a letter still wrong comes back as a new letter).
Only letters of the ingest path can be replayed; the others are skipped and counted.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

import click

from stream import schemas, topics
from stream.errors import AmurError, InvalidEvent
from stream.schemas import DeadLetter
from stream.settings import Settings, load_settings

INGEST_PLACES = ("http:/ingest", topics.RAW_INGEST.name)
"""Where a replayable letter came in: the HTTP adapter's /ingest, or the raw-ingest topic (any namespace)."""


def matches(letter: DeadLetter, reason: str | None, source: str | None) -> bool:
    """Whether ``letter`` passes the filters: ``reason`` is a case-insensitive part of its reason or field."""
    if source is not None and letter.source != source:
        return False
    if reason is None:
        return True
    wanted = reason.lower()
    return wanted in letter.reason.lower() or wanted == (letter.field or "").lower()


def line_of(letter: DeadLetter) -> str:
    """One tab-separated line: time, source, where it came in, reason, field=value, raw payload."""
    where = f"{letter.field}={letter.value}" if letter.field else "-"
    raw = letter.raw.replace("\t", " ").replace("\n", "\\n")
    return "\t".join([letter.event_time.isoformat(), letter.source, letter.topic, letter.reason, where, raw])


def replayable(letter: DeadLetter) -> bool:
    return letter.topic == INGEST_PLACES[0] or letter.topic.endswith("." + INGEST_PLACES[1])


@dataclass
class ReplayPlan:
    """What ``replay`` sends (key, payload) and what it skips, with why."""

    sends: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan_replay(lines: Iterable[str]) -> ReplayPlan:
    """Read JSON-lines letters (as printed by ``tail --json`` and corrected); refuse what cannot go back."""
    plan = ReplayPlan()
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            letter = schemas.decode(DeadLetter, text.encode())
        except InvalidEvent as exc:
            plan.skipped.append(f"line {number}: not a dead letter: {exc}")
            continue
        if not replayable(letter):
            plan.skipped.append(f"line {number}: came in at {letter.topic}, not the ingest path; "
                                "send it again through its own path")
            continue
        if letter.raw.startswith("b64:"):
            plan.skipped.append(f"line {number}: the payload is binary (b64:); correct it into JSON first")
            continue
        plan.sends.append((letter.source, letter.raw.encode()))
    return plan


async def read_letters(settings: Settings, name: str, *, follow: bool, emit: Callable[[DeadLetter], None],
                       stop: asyncio.Event, timeout_s: float = 30.0) -> int:
    """Emit every letter of topic ``name`` from the beginning; with ``follow``, go on until ``stop``.

    Returns how many letters were read (undecodable messages are reported on stderr and skipped).
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from stream.cli.alerts import _partitions
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options
    from stream.runtime.offsets import true_end_offsets

    bootstrap, options = bootstrap_servers(kafka_url(settings)), client_options(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                fetch_max_wait_ms=100, request_timeout_ms=int(timeout_s * 1000), **options)
    await consumer.start()
    count = 0
    try:
        partitions = await asyncio.wait_for(_partitions(consumer, name), timeout_s)
        if not partitions:
            raise AmurError(f"topic {name} does not exist (no worker or adapter has run with this namespace)")
        assigned = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await true_end_offsets(bootstrap, await consumer.end_offsets(assigned), options=options)
        while not stop.is_set():
            if not follow and not [tp for tp in assigned if await consumer.position(tp) < end[tp]]:
                break
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                for message in messages:
                    try:
                        letter = schemas.decode(DeadLetter, message.value)
                    except InvalidEvent as exc:
                        print(f"amur deadletter: skipped offset {message.offset}: {exc}", file=sys.stderr)
                        continue
                    count += 1
                    emit(letter)
        return count
    finally:
        await consumer.stop()


def _run_until_signal(main: Callable[[asyncio.Event], object]) -> object:
    async def run() -> object:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (RuntimeError, ValueError):  # not the main thread (called in-process): Ctrl-C stays default
                pass
        return await main(stop)  # type: ignore[misc]

    return asyncio.run(run())


drill_option = click.option("--drill", metavar="RUN_ID", help="a drill's namespace instead of the live one")


@click.command(name="tail", help="Print dead letters: time, source, where it came in, reason, field=value, raw.")
@click.option("--follow", "-f", is_flag=True, help="keep printing new letters until Ctrl-C")
@click.option("--reason", metavar="R", help="only letters whose reason contains R (any case), or whose field is R")
@click.option("--source", metavar="SOURCE", help="only letters of this source id")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line (what `deadletter replay` reads)")
@drill_option
def tail_command(follow: bool, reason: str | None, source: str | None, as_json: bool, drill: str | None) -> int:
    settings = load_settings()
    name = topics.topic_name(topics.DEAD_LETTER, drill or settings.drill_id)

    def emit(letter: DeadLetter) -> None:
        if matches(letter, reason, source):
            text = json.dumps(schemas.to_builtins(letter), ensure_ascii=False) if as_json else line_of(letter)
            print(text, flush=True)

    try:
        _run_until_signal(lambda stop: read_letters(settings, name, follow=follow, emit=emit, stop=stop))
    except AmurError as exc:
        print(f"amur deadletter tail: {exc}", file=sys.stderr)
        return 2
    return 0


def _lines(stream: TextIO) -> Iterator[str]:
    yield from stream


@click.command(name="replay", help="Send corrected dead letters back to the raw-ingest topic.\n\n"
               "FILE holds letters as `amur deadletter tail --json` prints them (- = stdin), with `raw` corrected; "
               "the workers validate each again. Letters that did not come in through ingest are skipped.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="say what would be sent, send nothing")
@drill_option
def replay_command(file: TextIO, dry_run: bool, drill: str | None) -> int:
    settings = load_settings()
    plan = plan_replay(_lines(file))
    for reason in plan.skipped:
        print(f"amur deadletter replay: skipped {reason}", file=sys.stderr)
    name = topics.topic_name(topics.RAW_INGEST, drill or settings.drill_id)
    if not dry_run and plan.sends:
        try:
            asyncio.run(_send(settings, name, plan.sends))
        except OSError as exc:
            print(f"amur deadletter replay: cannot reach the broker: {exc}", file=sys.stderr)
            return 2
    print(f"{'would send' if dry_run else 'sent'} {len(plan.sends)} to {name}, skipped {len(plan.skipped)}")
    return 1 if plan.skipped else 0


async def _send(settings: Settings, name: str, sends: list[tuple[str, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), acks="all",
                                **client_options(settings))
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(name, key=key.encode(), value=value) for key, value in sends])
    finally:
        await producer.stop()
