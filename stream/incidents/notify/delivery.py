"""Delivering one notification over HTTP, with bounded retries and exponential backoff.

Every request carries ``Idempotency-Key: <notification id>``, the same on every
retry: ids are deterministic, so a receiver can drop the rare repeat that
at-least-once processing may cause after a crash between sending and recording.
The retry loop is tenacity's: stop after ``attempts``, wait ``backoff_s``,
``2 * backoff_s``, ... (no jitter), retry while the receiver has not accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from stream.incidents.notify.contacts import Contact
from stream.incidents.notify.payloads import payload
from stream.schemas import IncidentChanged, Notification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_s: float = 1.0
    """Wait before the 2nd attempt; doubles after each failure."""
    timeout_s: float = 5.0


def accepted(contact: Contact, status: int, body: str) -> tuple[bool, str]:
    """Whether the receiver took the message, and a short detail for the operator.

    Webhooks: any 2xx. Robots: 2xx and, when the answer is JSON with ``errcode``, errcode 0
    (robot endpoints answer HTTP 200 with a non-zero errcode when they refuse a message).
    """
    if not 200 <= status < 300:
        return False, f"HTTP {status}"
    if contact.channel == "robot":
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {}
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if errcode != 0:
            return False, f"HTTP {status} errcode {errcode} {answer.get('errmsg', '')}".strip()
    return True, f"HTTP {status}"


async def deliver(session: aiohttp.ClientSession, contact: Contact, incident: IncidentChanged,
                  notification: Notification, retry: RetryPolicy) -> Notification:
    """Send until accepted or out of attempts; the returned notification says which, and how many tries."""
    return await post(session, contact, payload(contact, incident, notification), notification, retry)


async def post(session: aiohttp.ClientSession, contact: Contact, body: dict[str, Any], notification: Notification,
               retry: RetryPolicy) -> Notification:
    """POST ``body`` (an incident's or a dispatched request's notice) to ``contact`` until accepted or out of
    attempts, with ``Idempotency-Key: <notification id>`` on every attempt."""
    headers = {"Idempotency-Key": notification.notification_id}

    async def send() -> tuple[bool, str]:
        try:
            async with session.post(contact.url, json=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=retry.timeout_s)) as response:
                return accepted(contact, response.status, await response.text())
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return False, f"{type(exc).__name__}: {exc}"[:200]

    def warn(state: RetryCallState) -> None:
        _, detail = _last(state)
        log.warning("notification failed id=%s contact=%s attempt=%s detail=%s",
                    notification.notification_id, contact.contact_id, state.attempt_number, detail)

    retrying = AsyncRetrying(stop=stop_after_attempt(retry.attempts), wait=backoff(retry),
                             retry=retry_if_result(lambda sent: not sent[0]), after=warn, retry_error_callback=_last)
    ok, detail = await retrying(send)
    return msgspec.structs.replace(notification, status="delivered" if ok else "failed",
                                   attempts=retrying.statistics["attempt_number"], detail=detail)


def backoff(retry: RetryPolicy) -> wait_exponential:
    """The wait before each next attempt: ``backoff_s``, then twice that, and so on (no jitter)."""
    return wait_exponential(multiplier=retry.backoff_s)


def _last(state: RetryCallState) -> tuple[bool, str]:
    """What the latest attempt gave: (accepted, detail)."""
    return state.outcome.result()  # type: ignore[union-attr,no-any-return]  # set once an attempt has run
