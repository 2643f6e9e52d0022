"""`amur alerts list` and `amur alerts cap`: read the incidents topic, the source of truth.

Both consume the incidents topic from the beginning (no consumer group, nothing
committed) up to its end offsets and keep the latest revision of each incident.
``alerts list`` prints a table on a terminal, else one tab-separated line per
incident (or, with ``--json``, one JSON object per line).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stream import schemas, topics
from stream.errors import AmurError, InvalidEvent
from stream.schemas import IncidentChanged
from stream.settings import Settings, load_settings

E = TypeVar("E", bound=schemas.Event)


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
    return await read_topic(settings, topics.INCIDENTS, IncidentChanged, drill_id, timeout_s)


async def read_topic(settings: Settings, spec: topics.TopicSpec, kind: type[E], drill_id: str | None,
                     timeout_s: float = 30.0) -> list[E]:
    """Every message of a topic that decodes as ``kind``, in partition order (others are skipped)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options
    from stream.runtime.offsets import true_end_offsets

    name = topics.topic_name(spec, drill_id)
    bootstrap, options = bootstrap_servers(kafka_url(settings)), client_options(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                fetch_max_wait_ms=10, request_timeout_ms=int(timeout_s * 1000), **options)
    await consumer.start()
    try:
        partitions = await asyncio.wait_for(_partitions(consumer, name), timeout_s)
        if not partitions:
            raise AmurError(f"topic {name} does not exist (no worker has run with this namespace)")
        assigned = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        # Tansu under-reports end offsets: see stream.runtime.offsets
        end = await true_end_offsets(bootstrap, await consumer.end_offsets(assigned), options=options)
        events: list[E] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while [tp for tp in assigned if await consumer.position(tp) < end[tp]]:
            if loop.time() > deadline:
                raise AmurError(f"reading {name} took longer than {timeout_s:.0f} s")
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    try:
                        events.append(schemas.decode(kind, message.value))
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


def incidents_of(settings: Settings, drill: str | None) -> list[IncidentChanged]:
    """A finished drill's saved incidents (stream.drills.runs) if there are any, else the incidents topic."""
    if drill:
        from stream.drills.runs import saved_incidents

        saved = saved_incidents(settings, drill)
        if saved is not None:
            return saved
    return asyncio.run(read_incidents(settings, drill or settings.drill_id))


COLOUR_STYLES = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow", "blue": "blue", "green": "green"}

drill_option = click.option("--drill", metavar="RUN_ID", help="read a drill's namespace instead of the live one")


@click.command(name="list", help="Print the latest revision of every incident, oldest raised first.")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--active", is_flag=True, help="only incidents not resolved or expired")
@drill_option
def list_command(as_json: bool, active: bool, drill: str | None) -> int:
    settings = load_settings()
    try:
        events = incidents_of(settings, drill)
    except AmurError as exc:
        print(f"amur alerts list: {exc}", file=sys.stderr)
        return 2
    latest = sorted(latest_revisions(events).values(), key=lambda i: (i.raised_at or i.event_time, i.incident_id))
    if active:
        latest = [i for i in latest if i.state not in (schemas.IncidentState.RESOLVED, schemas.IncidentState.EXPIRED)]
    console = Console()
    if as_json:
        for incident in latest:
            record = schemas.to_builtins(incident)
            record["id"] = incident.incident_id
            print(json.dumps(record, ensure_ascii=False))
    elif console.is_terminal:
        names = _place_names(settings) if latest else None
        console.print(incident_table(latest, names, ZoneInfo(settings.cap_timezone)))
    else:
        for incident in latest:
            print(f"{incident.incident_id}\t{incident.colour.value}\t{incident.state.value}\t"
                  f"r{incident.revision}\t{len(incident.evidence)} evidence\t{incident.title}")
    return 0


def incident_table(incidents: Sequence[IncidentChanged], place_name: Callable[[str], str | None] | None,
                   zone: ZoneInfo) -> Table:
    """Incidents as a table for a person: place by name where known, last update in ``zone``."""
    from stream.incidents.grid import common_place

    table = Table(title=f"incidents: {len(incidents)}", box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for name in ("id", "hazard", "colour", "state"):  # whole words; the id is what `amur alerts cap` takes
        table.add_column(name, no_wrap=True)
    table.add_column("place", overflow="fold")
    table.add_column("updated", no_wrap=True)
    for incident in incidents:
        place = common_place(incident.cells)
        colour = incident.colour.value
        table.add_row(incident.incident_id, incident.hazard.value, Text(colour, style=COLOUR_STYLES.get(colour, "")),
                      incident.state.value, Text((place_name(place) if place_name else None) or place),
                      incident.event_time.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
    return table


def _place_names(settings: Settings) -> Callable[[str], str | None] | None:
    """The place index's names, or None when it cannot be loaded (the table then shows grid codes)."""
    from stream.incidents.places import load_places

    try:
        return load_places(settings.incident_places, settings.gis_manifest).name
    except (AmurError, OSError):
        return None


@click.command(name="cap", help="Print the latest CAP 1.2 message of INCIDENT_ID, validated against the schema.")
@click.argument("incident_id")
@click.option("--history", is_flag=True, help="every CAP message of the incident, oldest first")
@drill_option
def cap_command(incident_id: str, history: bool, drill: str | None) -> int:
    from stream.incidents.cap import cap_xml, validate_cap
    from stream.incidents.places import load_places

    settings = load_settings()
    try:
        events = incidents_of(settings, drill)
        mine = [e for e in events if e.incident_id == incident_id]
        if not mine:
            raise AmurError(f"no incident {incident_id!r} on the incidents topic")
        chosen = cap_revisions(mine) if history else [latest_revisions(mine)[incident_id]]
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
