"""`amur alerts list` and `amur alerts cap`: read the incidents topic, the source of truth.

Both consume the incidents topic from the beginning (no consumer group, nothing
committed) up to its end offsets and keep the latest revision of each incident.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from stream import schemas, topics
from stream.errors import AmurError, InvalidEvent
from stream.schemas import IncidentChanged
from stream.settings import Settings, load_settings


def latest_revisions(events: Iterable[IncidentChanged]) -> dict[str, IncidentChanged]:
    """Latest snapshot per incident id (higher revision wins; on a tie, the later message)."""
    latest: dict[str, IncidentChanged] = {}
    for event in events:
        known = latest.get(event.incident_id)
        if known is None or event.revision >= known.revision:
            latest[event.incident_id] = event
    return latest


async def read_incidents(settings: Settings, drill_id: str | None, timeout_s: float = 30.0) -> list[IncidentChanged]:
    """Every message of the incidents topic, in partition order (undecodable ones are skipped)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.offsets import true_end_offsets

    name = topics.topic_name(topics.INCIDENTS, drill_id)
    bootstrap = bootstrap_servers(kafka_url(settings))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                group_id=None, fetch_max_wait_ms=10, request_timeout_ms=int(timeout_s * 1000))
    await consumer.start()
    try:
        partitions = await asyncio.wait_for(_partitions(consumer, name), timeout_s)
        if not partitions:
            raise AmurError(f"topic {name} does not exist (no worker has run with this namespace)")
        assigned = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await true_end_offsets(bootstrap, await consumer.end_offsets(assigned))  # Tansu: see stream.runtime.offsets
        events: list[IncidentChanged] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while [tp for tp in assigned if await consumer.position(tp) < end[tp]]:
            if loop.time() > deadline:
                raise AmurError(f"reading {name} took longer than {timeout_s:.0f} s")
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    try:
                        events.append(schemas.decode(IncidentChanged, message.value))
                    except InvalidEvent:
                        continue
        return events
    finally:
        await consumer.stop()


async def _partitions(consumer, name: str) -> set[int] | None:  # type: ignore[no-untyped-def]
    for _ in range(20):
        if name in await consumer.topics():
            found = consumer.partitions_for_topic(name)
            if found:
                return set(found)
        await asyncio.sleep(0.1)
    return None


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--drill", metavar="RUN_ID", help="read a drill's namespace instead of the live one")
    return parser


def list_main(argv: list[str] | None = None) -> int:
    """`amur alerts list [--json] [--active] [--drill RUN_ID]`."""
    parser = _parser("amur alerts list")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--active", action="store_true", help="only incidents not resolved or expired")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        events = asyncio.run(read_incidents(settings, args.drill or settings.drill_id))
    except AmurError as exc:
        print(f"amur alerts list: {exc}", file=sys.stderr)
        return 2
    latest = sorted(latest_revisions(events).values(), key=lambda i: (i.raised_at or i.event_time, i.incident_id))
    for incident in latest:
        if args.active and incident.state in (schemas.IncidentState.RESOLVED, schemas.IncidentState.EXPIRED):
            continue
        if args.json:
            record = schemas.to_builtins(incident)
            record["id"] = incident.incident_id
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{incident.incident_id}\t{incident.colour.value}\t{incident.state.value}\t"
                  f"r{incident.revision}\t{len(incident.evidence)} evidence\t{incident.title}")
    return 0


def cap_main(argv: list[str] | None = None) -> int:
    """`amur alerts cap INCIDENT_ID [--drill RUN_ID]`: the latest CAP 1.2 message, validated."""
    from stream.incidents.cap import cap_xml, validate_cap
    from stream.incidents.places import load_places

    parser = _parser("amur alerts cap")
    parser.add_argument("incident_id")
    parser.add_argument("--history", action="store_true", help="every CAP message of the incident, oldest first")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        events = asyncio.run(read_incidents(settings, args.drill or settings.drill_id))
        mine = [e for e in events if e.incident_id == args.incident_id]
        if not mine:
            raise AmurError(f"no incident {args.incident_id!r} on the incidents topic")
        chosen = cap_revisions(mine) if args.history else [latest_revisions(mine)[args.incident_id]]
        places = load_places(settings.incident_places, settings.gis_manifest)
        documents = [cap_xml(incident, sender=settings.cap_sender, zone=ZoneInfo(settings.cap_timezone),
                             outlines=places.outline, place_name=places.name) for incident in chosen]
        for document in documents:
            validate_cap(document)
    except AmurError as exc:
        print(f"amur alerts cap: {exc}", file=sys.stderr)
        return 2
    print("\n".join(documents))
    return 0


def cap_revisions(snapshots: Iterable[IncidentChanged]) -> list[IncidentChanged]:
    """The snapshot of each CAP message (one per CAP reference), oldest first."""
    issued: dict[int, IncidentChanged] = {}
    for snapshot in sorted(snapshots, key=lambda s: s.revision):
        if snapshot.cap_refs:
            issued.setdefault(len(snapshot.cap_refs), snapshot)  # the revision that issued the message
    return [issued[n] for n in sorted(issued)]
