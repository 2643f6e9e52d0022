"""Which "now" a worker's timed decisions read: the wall clock, or the stream's own event time.

Live, "now" is the wall clock. A drill or a replay runs its feeds on a virtual
clock (a flood of 2021 replayed at 60x): judged by the wall clock, an incident
raised in the replay is years overdue at its first tick (or, ahead of the wall
clock, never due), and a sensor the replay silences for an hour is silent for
only a minute. On the event clock "now" is the watermark: the latest event time
the worker has seen on its inputs. An unacknowledged red then escalates after
five virtual minutes, five seconds into a 60x drill.

The watermark stands still while nothing arrives; a drill's continuous feeds keep
it moving. It is per worker: with several workers, each judges by what its own
partitions carried (in a replay they move together).
"""

from __future__ import annotations

from datetime import datetime

CLOCK_MODES = ("auto", "wall", "event")


def event_clock_on(mode: str, drill_id: str | None) -> bool:
    """``event``: always; ``wall``: never; ``auto``: in a drill (which runs on a virtual clock)."""
    if mode not in CLOCK_MODES:
        raise ValueError(f"clock mode must be one of {CLOCK_MODES}, got {mode!r}")
    return mode == "event" or (mode == "auto" and drill_id is not None)


def advanced(watermark: datetime | None, seen: datetime) -> datetime:
    """The watermark after an event of time ``seen``: it never goes back."""
    return seen if watermark is None or seen > watermark else watermark


def decision_time(event_clock: bool, wall: datetime, watermark: datetime | None) -> datetime | None:
    """"now" for a timed decision; None on the event clock before any event (no time yet)."""
    return watermark if event_clock else wall
