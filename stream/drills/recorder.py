"""`amur record`: archive the live input topics for a drill to replay (see :mod:`stream.drills.archive`).

The recorder is a consumer group of its own (``<app id>-recorder``), so the live
pipeline's groups, offsets and latency are not touched. It reads what enters
Amur from outside — raw ingest (readings, weather, water levels), grid events
(Open311 requests, 110 calls, grid workers), operator commands and frame
samples — and, for each frame sample, the image the analysis saw: the original
JPEG when the sampler kept it as evidence, otherwise the thumbnail the sampler
wrote to Redis (the analysed, decoded frame at ``decode_width``, re-encoded).
A thumbnail that is gone (its TTL, or Redis down) is counted as
``images_missing``; the sample is recorded without it and replays as a frame
that could not be fetched.

Offsets are committed only after the segment holding the messages is sealed
(written, checksummed, in the manifest). A write that fails — a full disk above
all — is logged and counted, the open segment is dropped, and the recorder goes
back to the first message that segment held (its last commit) and tries again
after a pause: the live system goes on, and nothing is lost while the broker
still retains the messages.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click
import msgspec

from stream import schemas, topics
from stream.drills.archive import SegmentWriter, make_record, verify
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)

RECORDED: tuple[topics.TopicSpec, ...] = (topics.RAW_INGEST, topics.GRID_EVENTS, topics.COMMANDS, topics.FRAMES)
"""The live input topics: what comes from outside Amur (everything else is derived from them)."""

RETRY_S = 5.0


class _Stamp(msgspec.Struct):
    event_time: datetime | None = None


_stamp = msgspec.json.Decoder(_Stamp | list[_Stamp])


def event_time_of(payload: bytes, fallback: datetime) -> datetime:
    """A payload's event time (of its first event, for an array), or ``fallback`` (the broker's timestamp)
    when it has none: refused input is recorded too, and must replay in place."""
    try:
        stamp = _stamp.decode(payload)
    except msgspec.DecodeError:
        return fallback
    first = stamp[0] if isinstance(stamp, list) and stamp else stamp
    when = first.event_time if isinstance(first, _Stamp) else None
    return when if when is not None and when.tzinfo is not None else fallback


@dataclass(slots=True)
class RecorderStats:
    recorded: int = 0
    images: int = 0
    images_missing: int = 0
    segments: int = 0
    pruned: int = 0
    write_faults: int = 0


class Recorder:
    """Consumes the input topics of ``settings``' namespace into the archive at ``root``."""

    def __init__(self, settings: Settings, root: Path, *, from_beginning: bool = False) -> None:
        self.settings = settings
        self.root = root
        self.from_beginning = from_beginning
        self.stats = RecorderStats()
        self.short = {topics.topic_name(spec, settings.drill_id): spec.name for spec in RECORDED}
        self.writer: SegmentWriter | None = None
        self._opened = time.time()
        self._rewind_to: dict = {}
        self._open_images = 0
        """Per partition, the offset of the first message in the open segment (where a failed write resumes)."""

    async def run(self, stop: asyncio.Event) -> RecorderStats:
        from aiokafka import AIOKafkaConsumer
        from redis.asyncio import Redis

        from stream.runtime.admin import bootstrap_servers
        from stream.runtime.app import kafka_url
        from stream.runtime.kafkaauth import client_options

        s = self.settings
        consumer = AIOKafkaConsumer(*self.short, bootstrap_servers=bootstrap_servers(kafka_url(s)),
                                    group_id=f"{s.effective_app_id}-recorder", enable_auto_commit=False,
                                    auto_offset_reset="earliest" if self.from_beginning else "latest",
                                    session_timeout_ms=int(s.session_timeout_s * 1000),
                                    request_timeout_ms=int(s.request_timeout_s * 1000), max_poll_records=2000,
                                    **client_options(s))
        redis = Redis.from_url(s.redis_url) if s.redis_url else None
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                try:
                    await self._write(batches, redis)
                    if self._due():
                        await asyncio.to_thread(self._seal)
                        await consumer.commit()
                except OSError as exc:
                    await self._fault(exc, consumer, stop)
            try:
                await asyncio.to_thread(self._seal)
                await consumer.commit()
            except OSError as exc:
                self.stats.write_faults += 1
                log.error("record: last segment not written error=%r; its messages are recorded from the last "
                          "commit next time", exc)
        finally:
            await consumer.stop()
            if redis is not None:
                await redis.aclose()
        return self.stats

    async def _write(self, batches: dict, redis: object) -> None:
        if self.writer is None:
            self.writer = await asyncio.to_thread(SegmentWriter, self.root)
        for tp in sorted(batches, key=lambda tp: (tp.topic, tp.partition)):
            short = self.short[tp.topic]
            for message in batches[tp]:
                self._rewind_to.setdefault(tp, message.offset)
                value = message.value or b""
                fallback = datetime.fromtimestamp(message.timestamp / 1000, timezone.utc)
                image = await self._image(value, redis) if short == topics.FRAMES.name else None
                self.writer.append(make_record(short, message.key, value, event_time_of(value, fallback), image))
                self.stats.recorded += 1

    async def _image(self, value: bytes, redis: object) -> str | None:
        """The frame's image stored in the archive (its relative path), or None when it cannot be had."""
        assert self.writer is not None
        try:
            sample = schemas.decode(schemas.FrameSample, value)
        except Exception:  # noqa: BLE001 - a refused sample is recorded as it is, without an image
            return None
        if not sample.image_ref:
            return None
        data = await self._read_image(sample.image_ref, redis)
        if not data:
            self.stats.images_missing += 1
            return None
        self.stats.images += 1
        self._open_images += 1
        return await asyncio.to_thread(self.writer.add_image, data)

    async def _read_image(self, ref: str, redis: object) -> bytes | None:
        from redis.exceptions import RedisError

        from vision.evidence import REF_PREFIX

        if ref.startswith("redis:"):
            if redis is None:
                return None
            try:
                return await redis.get(ref[len("redis:"):])  # type: ignore[attr-defined]
            except RedisError as exc:
                log.warning("record: thumbnail not read ref=%s error=%r", ref, exc)
                return None
        if ref.startswith(REF_PREFIX) and ".." not in ref:
            path = self.settings.vision_evidence_dir / ref[len(REF_PREFIX):]
            return path.read_bytes() if path.exists() else None
        return None

    def _due(self) -> bool:
        assert self.writer is not None
        if not self.writer.records:
            self._opened = time.time()
            return False
        return (time.time() - self._opened >= self.settings.record_segment_s
                or self.writer.written_bytes() >= self.settings.record_segment_mb * 1024 * 1024)

    def _seal(self) -> None:
        if self.writer is None:
            return
        now = time.time()
        if self.writer.seal(now) is not None:
            self.stats.segments += 1
        self._rewind_to, self._open_images = {}, 0
        self._opened = now
        gone = self.writer.prune(self.settings.record_max_mb * 1024 * 1024, self.settings.record_max_age_s, now)
        self.stats.pruned += len(gone)
        if gone:
            log.info("record: pruned segments=%s (archive bounds)", ",".join(gone))

    async def _fault(self, exc: OSError, consumer: object, stop: asyncio.Event) -> None:
        """A write failed (disk full, ...): count it, drop the open segment, rewind to its first messages, wait."""
        self.stats.write_faults += 1
        log.error("record: write failed archive=%s error=%r faults=%d; the open segment is dropped and its "
                  "messages are recorded again after %gs", self.root, exc, self.stats.write_faults, RETRY_S)
        if self.writer is not None:
            self.stats.recorded -= self.writer.records  # recorded again after the rewind
            self.stats.images -= self._open_images
            self._open_images = 0
            self.writer.discard()
        for tp, offset in self._rewind_to.items():
            consumer.seek(tp, offset)  # type: ignore[attr-defined]
        self._rewind_to = {}
        try:
            await asyncio.wait_for(stop.wait(), RETRY_S)
        except asyncio.TimeoutError:
            pass


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def record(settings: Settings, root: Path, *, duration_s: float | None, from_beginning: bool,
                 on_start: Callable[[asyncio.Event], None] = _stop_on_signals) -> RecorderStats:
    stop = asyncio.Event()
    on_start(stop)
    recorder = Recorder(settings, root, from_beginning=from_beginning)
    task = asyncio.create_task(recorder.run(stop))
    if duration_s is not None:
        done, _ = await asyncio.wait({task}, timeout=duration_s)
        stop.set()
    return await task


@click.group(name="record", invoke_without_command=True,
             help="Archive the live input topics (readings, weather, levels, grid events, Open311, operator "
                  "commands, frame samples with their images) for drills; `amur record verify ARCHIVE` checks one.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="archive directory (default: AMUR_RECORD_DIR)")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              help="wall seconds to record, then seal and exit (default: until Ctrl-C or SIGTERM)")
@click.option("--from-beginning", is_flag=True,
              help="on the first run of the recorder's group, start at the oldest retained message, not now")
@click.pass_context
def command(ctx: click.Context, out: Path | None, duration: float | None, from_beginning: bool) -> int:
    if ctx.invoked_subcommand is not None:
        return 0
    from stream.runtime.logs import configure

    settings = load_settings()
    configure(settings.log_level)
    root = out or settings.record_dir
    print(f"[record] archiving {', '.join(s.name for s in RECORDED)} into {root}", flush=True)
    stats = asyncio.run(record(settings, root, duration_s=duration, from_beginning=from_beginning))
    print(f"[record] recorded={stats.recorded} images={stats.images} images_missing={stats.images_missing} "
          f"segments={stats.segments} pruned={stats.pruned} write_faults={stats.write_faults}", flush=True)
    return 0


@command.command(name="verify", help="Check every checksum of an archive; list damaged segments and images.")
@click.argument("archive", type=click.Path(path_type=Path, exists=True, file_okay=False))
def verify_command(archive: Path) -> int:
    manifest, damage = verify(archive)
    counts = ", ".join(f"{topic} {n:,}" for topic, n in manifest.counts.items()) or "nothing"
    print(f"{archive}: {len(manifest.segments)} segments ({counts})")
    for item in damage:
        print(f"DAMAGED {item.name}: {item.reason}")
    sealed_damage = [d for d in damage if not d.reason.startswith("unsealed")]
    print("OK: every checksum matches" if not sealed_damage else f"{len(sealed_damage)} damaged; a replay skips them")
    return 1 if sealed_damage else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(command())
