"""Delivering notifications to a real loopback HTTP server: payloads, retries, statuses."""

from __future__ import annotations

import json
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web

from stream.incidents.fusion import observe
from stream.incidents.notify.contacts import Contact
from stream.incidents.notify.delivery import RetryPolicy, accepted, backoff, deliver
from stream.incidents.state import Area, to_event
from stream.schemas import Colour
from tests.helpers.webhooks import receiver
from tests.helpers.incidents import CELL_A, PLACES, POLICY, observed, recipients

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=5.0)


def answer(name: str, calls: int) -> web.Response:
    if name == "flaky" and calls == 1:
        return web.Response(status=500)
    if name == "down":
        return web.Response(status=503)
    if name == "robot" and calls == 1:
        return web.json_response({"errcode": 310000, "errmsg": "keywords not in content"})
    return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def server():  # type: ignore[no-untyped-def]
    async with receiver(answer) as found:
        yield found


def incident():  # type: ignore[no-untyped-def]
    outcome = observe(Area(area_key="231102/fire"), observed(0, "risk:a", Colour.RED, [CELL_A]), PLACES, POLICY,
                      recipients)
    snapshot = to_event(outcome.changes[0], "amur")
    return snapshot, snapshot.notifications[0]


async def test_webhook_gets_the_incident_and_an_idempotency_key(server) -> None:  # type: ignore[no-untyped-def]
    snapshot, pending = incident()
    contact = Contact("aihui/desk", "webhook", str(server.make_url("/hook")))
    async with aiohttp.ClientSession() as session:
        result = await deliver(session, contact, snapshot, pending, FAST)
    assert (result.status, result.attempts, result.detail) == ("delivered", 1, "HTTP 200")
    [(body, headers)] = server.received["hook"]
    assert body["incident"]["incident_id"] == snapshot.incident_id and body["incident"]["colour"] == "red"
    assert body["notification"]["reason"] == "raised"
    assert headers["Idempotency-Key"] == pending.notification_id


async def test_a_failing_receiver_is_retried_until_it_accepts(server) -> None:  # type: ignore[no-untyped-def]
    snapshot, pending = incident()
    contact = Contact("aihui/flaky", "webhook", str(server.make_url("/flaky")))
    async with aiohttp.ClientSession() as session:
        result = await deliver(session, contact, snapshot, pending, FAST)
    assert (result.status, result.attempts) == ("delivered", 2)
    assert len(server.received["flaky"]) == 2
    assert [headers["Idempotency-Key"] for _, headers in server.received["flaky"]] == [pending.notification_id] * 2


async def test_robot_errcode_counts_as_failure_and_the_markdown_format(server) -> None:  # type: ignore[no-untyped-def]
    snapshot, pending = incident()
    contact = Contact("aihui/robot", "robot", str(server.make_url("/robot")), style="dingtalk")
    async with aiohttp.ClientSession() as session:
        result = await deliver(session, contact, snapshot, pending, FAST)
    assert (result.status, result.attempts) == ("delivered", 2)
    body, _ = server.received["robot"][0]
    assert body["msgtype"] == "markdown" and "红色预警" in body["markdown"]["title"]
    assert snapshot.incident_id in body["markdown"]["text"]


async def test_giving_up_after_the_last_attempt_says_why(server) -> None:  # type: ignore[no-untyped-def]
    snapshot, pending = incident()
    async with aiohttp.ClientSession() as session:
        down = await deliver(session, Contact("x/down", "webhook", str(server.make_url("/down"))), snapshot, pending,
                             FAST)
        closed = await deliver(session, Contact("x/closed", "webhook", "http://127.0.0.1:9/nothing"), snapshot,
                               pending, FAST)
    assert (down.status, down.attempts, down.detail) == ("failed", 3, "HTTP 503")
    assert len(server.received["down"]) == 3
    assert closed.status == "failed" and "ClientConnectorError" in closed.detail


def test_the_wait_doubles_after_each_failure() -> None:
    waits = [backoff(FAST)(SimpleNamespace(attempt_number=n)) for n in (1, 2, 3)]  # type: ignore[arg-type]
    assert waits == [0.01, 0.02, 0.04]


def test_accepted_rules() -> None:
    robot = Contact("a/r", "robot", "http://x", "wecom")
    hook = Contact("a/h", "webhook", "http://x")
    assert accepted(hook, 204, "") == (True, "HTTP 204")
    assert accepted(hook, 302, "")[0] is False
    assert accepted(robot, 200, json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"})) == \
        (False, "HTTP 200 errcode 93000 invalid webhook url")
    assert accepted(robot, 200, "not json")[0] is True
