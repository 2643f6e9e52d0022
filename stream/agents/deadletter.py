"""Sending a rejected payload to the dead-letter topic, for any agent module."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from stream import schemas, topics
from stream.errors import InvalidEvent
from stream.ingest.outcome import Outcome


async def send_dead_letter(rt: Any, spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent, source: str) -> None:
    """Count the rejection and publish the raw payload with the reason, field and value."""
    rt.metrics.count(spec.name, Outcome.DEAD_LETTERED)
    letter = schemas.DeadLetter(source=source, event_time=datetime.now(timezone.utc), topic=rt.topic_name(spec),
                                reason=exc.reason, field=exc.field, value=exc.value,
                                raw=payload.decode("utf-8", "replace"))
    await rt.topic(topics.DEAD_LETTER).send(key=source.encode(), value=schemas.encode(letter))
