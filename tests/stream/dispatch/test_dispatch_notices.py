"""Escalation notices of dispatched requests: who hears of each step, and delivery to a real loopback server."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web

from stream.dispatch.notices import notice_payload, notices
from stream.dispatch.request import tick, to_event
from stream.incidents.notify.contacts import Contact, load_directory
from stream.incidents.notify.delivery import RetryPolicy, post
from tests.helpers.dispatch_scenario import cell_in, report
from tests.helpers.webhooks import receiver

T0 = datetime(2026, 1, 10, 0, tzinfo=timezone.utc)  # 08:00 in Heihe
CELL = cell_in("231102", 9)  # an Aihui cell: village CELL[:12], street CELL[:9]
FAST = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=5.0)

DIRECTORY = """
departments:
  - {id: grid-office, name: city grid office, grid_code: "231100", hazards: [],
     contacts: [{name: city, channel: webhook, url: "http://127.0.0.1:9/city"}],
     drill_contacts: [{name: drill, channel: webhook, url: "http://127.0.0.1:9/drill"}]}
  - {id: grid-office, name: street grid office, grid_code: "%s", hazards: [],
     contacts: [{name: street, channel: robot, style: wecom, url: "http://127.0.0.1:9/street"}]}
  - {id: heating, name: heating company, grid_code: "231100", hazards: [],
     contacts: [{name: desk, channel: webhook, url: "http://127.0.0.1:9/heating"}]}
  - {id: housing, name: Sunwu housing bureau, grid_code: "231124", hazards: [],
     contacts: [{name: desk, channel: webhook, url: "http://127.0.0.1:9/housing"}]}
""" % CELL[:9]


@pytest.fixture
def directory(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "contacts.yaml"
    path.write_text(DIRECTORY, encoding="utf-8")
    return load_directory(path)


def climbed(drill: bool = False):  # type: ignore[no-untyped-def]
    """A cold flat reported at 08:00 and never accepted (PT2H): village 10:00, street 12:00, Aihui 14:00, city 16:00."""
    received = report("311-cold", "heating_cold", CELL, T0)
    if drill:
        received = msgspec.structs.replace(received, drill=True)
    return received, [to_event(step) for step in tick(received, T0 + timedelta(hours=8))]


def test_each_step_reaches_the_grid_office_of_its_level_and_the_department(directory) -> None:
    received, steps = climbed()
    assert [(s.change, s.responsible) for s in steps] == [
        ("escalated", CELL[:12]), ("escalated", CELL[:9]), ("escalated", "231102"), ("escalated", "231100")]
    assert notices(directory, to_event(received)).due == ()  # a receipt is an event, not a notice
    village, street, county, city = (notices(directory, s) for s in steps)
    # the village has no grid office of its own: its street's answers; the heating company at the city level
    assert [(n.notified, n.contact.contact_id) for n in village.due] == [
        (f"grid:{CELL[:12]}", "grid-office/street"), ("heating", "heating/desk")]
    assert [n.contact.contact_id for n in street.due] == ["grid-office/street", "heating/desk"]
    # from the county up the item's escalation contact too: housing has a desk in Sunwu only, so it is unreached
    assert [(n.notified, n.contact.contact_id) for n in county.due] == [
        ("grid:231102", "grid-office/city"), ("heating", "heating/desk")]
    assert county.unreached == ("housing",) and city.unreached == ("housing",)
    ids = [n.notification.notification_id for s in (village, street, county, city) for n in s.due]
    assert len(set(ids)) == len(ids)  # one notice per step and contact; the same step again gives the same ids
    assert [n.notification.notification_id for n in notices(directory, steps[0]).due] == ids[:2]
    assert {(n.notification.status, n.notification.reason) for n in village.due} == {("pending", "escalated")}


def test_a_drill_reaches_only_drill_contacts(directory) -> None:
    _, steps = climbed(drill=True)
    village = notices(directory, steps[0])
    assert [n.contact.contact_id for n in village.due] == ["grid-office/drill"]  # the street's desk has no drill one
    assert village.unreached == ("heating",)


def answer(name: str, calls: int) -> web.Response:
    return web.Response(status=502 if name == "flaky" and calls == 1 else 200)


@pytest.fixture
async def server():  # type: ignore[no-untyped-def]
    async with receiver(answer) as found:
        yield found


def on(server, contact: Contact) -> Contact:  # type: ignore[no-untyped-def]
    """``contact`` with its URL on the loopback server (the heating desk's fails once)."""
    name = "flaky" if contact.contact_id == "heating/desk" else contact.contact_id.replace("/", "-")
    return dataclasses.replace(contact, url=str(server.make_url(f"/{name}")))


@pytest.mark.integration
async def test_notices_are_delivered_with_retries_and_idempotency_keys(directory, server) -> None:
    _, steps = climbed()
    county = steps[2]
    async with aiohttp.ClientSession() as session:
        results = [await post(session, on(server, n.contact), notice_payload(n.contact, county, n.notification),
                              n.notification, FAST) for n in notices(directory, county).due]
    assert [(r.contact, r.status, r.attempts) for r in results] == [
        ("grid-office/city", "delivered", 1), ("heating/desk", "delivered", 2)]
    [(body, headers)] = server.received["grid-office-city"]
    assert body["request"]["request_id"] == "311-cold" and body["request"]["responsible"] == "231102"
    assert body["notification"]["reason"] == "escalated"
    assert headers["Idempotency-Key"] == results[0].notification_id
    retried = server.received["flaky"]
    assert [h["Idempotency-Key"] for _, h in retried] == [results[1].notification_id] * 2


@pytest.mark.integration
async def test_a_robot_gets_a_markdown_notice(directory, server) -> None:
    _, steps = climbed()
    (street, _) = notices(directory, steps[1]).due
    async with aiohttp.ClientSession() as session:
        result = await post(session, on(server, street.contact),
                            notice_payload(street.contact, steps[1], street.notification), street.notification, FAST)
    assert result.status == "delivered"
    [(body, _)] = server.received["grid-office-street"]
    assert body["msgtype"] == "markdown" and "超时未受理" in body["markdown"]["content"]
    assert "311-cold" in body["markdown"]["content"] and CELL[:9] in body["markdown"]["content"]
