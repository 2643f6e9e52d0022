"""The gateway's in-memory copy of the projection, advanced strictly in sequence.

Each gateway process keeps its own mirror (read from Redis at start, then fed
by the update streams), so a new client's snapshot and the updates that follow
it come from one consistent position: no gap, no duplicate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from stream.screens.projection import Channel


class Applied(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    GAP = "gap"


@dataclass(frozen=True, slots=True)
class Update:
    """One numbered change of one channel's entry (``data`` None = deleted)."""

    channel: Channel
    seq: int
    key: str
    data: bytes | None


class Mirror:
    def __init__(self, state: dict[Channel, dict[str, bytes]], head: dict[Channel, int]) -> None:
        self.state = {channel: dict(state.get(channel, {})) for channel in Channel}
        self.head = {channel: head.get(channel, 0) for channel in Channel}

    def apply(self, update: Update) -> Applied:
        """Advance by one update; a GAP means the mirror must be re-read from Redis."""
        current = self.head[update.channel]
        if update.seq <= current:
            return Applied.DUPLICATE
        if update.seq != current + 1:
            return Applied.GAP
        entries = self.state[update.channel]
        if update.data is None:
            entries.pop(update.key, None)
        else:
            entries[update.key] = update.data
        self.head[update.channel] = update.seq
        return Applied.APPLIED
