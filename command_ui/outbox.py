"""A client's bounded outgoing queue: exact while it keeps up, coalesced when it lags.

Contract (what the hub relies on, and what a slow client gets):

- below ``capacity`` every message is queued in order, nothing is merged;
- at ``capacity`` an update whose key (channel, entry) is already waiting
  replaces that waiting message in place: the client still ends with the latest
  state of every entry, but skips intermediate updates, so ``coalesced`` is set
  and the writer tells the client its resume positions are no longer exact;
- at ``capacity`` a message with no waiting twin first drops the superseded
  copies (older queued messages of a key that has a newer one waiting: the same
  skipped intermediate updates as above) and takes a freed place; only when
  every waiting message is the latest of its key (or unkeyed), so nothing can be
  merged, :meth:`push` returns :attr:`Pushed.OVERFLOW` and the hub disconnects
  the client.

So whether a client is cut off depends only on how many distinct entries it is
behind on, never on which copies the writer happened to send just before the
client stalled.

Pushing never blocks and never waits on the client, so a stalled client cannot
slow the hub or any other client.
"""

from __future__ import annotations

import enum
from collections import deque

Key = tuple[str, str]


class Pushed(enum.Enum):
    QUEUED = "queued"
    COALESCED = "coalesced"
    OVERFLOW = "overflow"


class _Entry:
    __slots__ = ("key", "message")

    def __init__(self, key: Key | None, message: bytes) -> None:
        self.key = key
        self.message = message


class Outbox:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._entries: deque[_Entry] = deque()
        self._latest: dict[Key, _Entry] = {}
        self._superseded = 0
        """Queued messages whose key has a newer message waiting behind them."""
        self.coalesced = 0
        """Messages merged into (or dropped for) a newer one of their key since the client connected."""
        self.notice_due = False
        """Set on the first merge; the writer sends a ``coalesced`` notice and clears it."""

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, message: bytes, key: Key | None = None) -> Pushed:
        """Queue ``message`` (``key`` None: never merged, e.g. a snapshot)."""
        if len(self._entries) < self.capacity:
            self._append(key, message)
            return Pushed.QUEUED
        waiting = self._latest.get(key) if key is not None else None
        if waiting is not None:
            waiting.message = message
            self._merged(1)
            return Pushed.COALESCED
        if not self._superseded:
            return Pushed.OVERFLOW
        self._drop_superseded()
        self._append(key, message)
        return Pushed.COALESCED

    def _append(self, key: Key | None, message: bytes) -> None:
        entry = _Entry(key, message)
        self._entries.append(entry)
        if key is not None:
            if key in self._latest:
                self._superseded += 1
            self._latest[key] = entry

    def _drop_superseded(self) -> None:
        kept = deque(e for e in self._entries if e.key is None or self._latest[e.key] is e)
        self._merged(len(self._entries) - len(kept))
        self._entries, self._superseded = kept, 0

    def _merged(self, count: int) -> None:
        if not self.coalesced:
            self.notice_due = True
        self.coalesced += count

    def pop_batch(self, limit: int, max_bytes: int) -> list[bytes]:
        """Up to ``limit`` messages and about ``max_bytes`` (at least one message), oldest first."""
        batch: list[bytes] = []
        size = 0
        while self._entries and len(batch) < limit and (not batch or size + len(self._entries[0].message) <= max_bytes):
            entry = self._entries.popleft()
            if entry.key is not None:
                if self._latest[entry.key] is entry:
                    del self._latest[entry.key]
                else:
                    self._superseded -= 1
            batch.append(entry.message)
            size += len(entry.message)
        return batch
