"""API keys of the HTTP write paths, and a limit on wrong ones per client address.

Every write path of ``amur ingest`` (``POST /ingest``, Open311 POST, the 110 feed,
department actions) needs a key from its own setting. A client address that sends
:data:`FAILURE_BURST` wrong keys is refused with 429 before its key is even looked at,
and earns one more try every ``60 / FAILURES_PER_MINUTE`` seconds. Refusals are logged
with the path and the client address, never with the key that was sent.
The decisions are pure (the time is passed in); :func:`key_refusal` applies them to a request.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field

from aiohttp import web

log = logging.getLogger(__name__)

FAILURES_PER_MINUTE = 10.0
FAILURE_BURST = 10
MAX_CLIENTS = 10_000
"""Addresses remembered; the oldest is forgotten first (bounded memory under a spray of addresses)."""


def parse_keys(setting: str) -> frozenset[str]:
    """``"a, b,,c"`` -> ``{"a", "b", "c"}``."""
    return frozenset(key.strip() for key in setting.split(",") if key.strip())


def key_accepted(given: str | None, allowed: frozenset[str]) -> bool:
    """Whether ``given`` is one of ``allowed``, compared in constant time."""
    return bool(given) and any(hmac.compare_digest(given.encode(), key.encode()) for key in allowed)


@dataclass
class FailureLimit:
    """Wrong keys (or tokens) per client address, as a token bucket refilled over time."""

    per_minute: float = FAILURES_PER_MINUTE
    burst: int = FAILURE_BURST
    max_clients: int = MAX_CLIENTS
    _spent: dict[str, tuple[float, float]] = field(default_factory=dict)
    """client -> (tries left, at time)."""

    def _left(self, client: str, now: float) -> float:
        left, at = self._spent.get(client, (float(self.burst), now))
        return min(float(self.burst), left + max(0.0, now - at) * self.per_minute / 60.0)

    def blocked(self, client: str, now: float) -> bool:
        """Whether ``client`` has used up its wrong tries at ``now``."""
        return self._left(client, now) < 1.0

    def failed(self, client: str, now: float) -> None:
        """Record one wrong key from ``client`` at ``now``."""
        left = self._left(client, now) - 1.0
        self._spent.pop(client, None)
        if len(self._spent) >= self.max_clients:
            self._spent.pop(next(iter(self._spent)))
        self._spent[client] = (max(0.0, left), now)


KEY_FAILURES: web.AppKey[FailureLimit] = web.AppKey("key_failures", FailureLimit)
"""Wrong API keys per client address, shared by every write path of the adapter."""


def guard_keys(app: web.Application) -> None:
    """Give ``app`` its :class:`FailureLimit` (one per application, shared by its write paths)."""
    if KEY_FAILURES not in app:
        app[KEY_FAILURES] = FailureLimit()


def key_refusal(request: web.Request, given: str | None, allowed: frozenset[str], setting: str,
                now: float) -> tuple[int, str] | None:
    """(status, reason) if the call's key is refused, None if accepted; wrong keys are counted and logged
    (path and client, never the key)."""
    failures, client = request.app[KEY_FAILURES], request.remote or "unknown"
    if failures.blocked(client, now):
        log.warning("api key refused path=%s client=%s reason=too_many_failures", request.path, client)
        return 429, f"too many wrong API keys from {client}; retry in a minute"
    if key_accepted(given, allowed):
        return None
    if not allowed:
        return 403, f"writing is disabled: no API keys are configured ({setting})"
    failures.failed(client, now)
    log.warning("api key refused path=%s client=%s reason=%s", request.path, client,
                "missing" if not given else "not_accepted")
    return 403, "api_key missing or not accepted"


def given_key(request: web.Request) -> str | None:
    """The key of a call: header ``X-Api-Key`` or ``Authorization: Bearer <key>``."""
    return request.headers.get("X-Api-Key") or request.headers.get("Authorization", "").removeprefix("Bearer ") or None
