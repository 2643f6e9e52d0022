"""What became of one input event, as counted per source (``amur_events_total``)."""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
