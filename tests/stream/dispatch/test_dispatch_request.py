"""A request's life as pure decisions: receipt, departments' and the dispatcher's actions, the clock."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.dispatch.lifecycle import TRANSITIONS
from stream.dispatch.request import (
    Request,
    act,
    decode_request,
    encode_request,
    receive,
    retired,
    tick,
    to_event,
)
from stream.dispatch.routing import place_of
from stream.dispatch.status import report_status
from stream.schemas import (
    GridEvent,
    RequestActed,
    RequestAction,
    RequestChanged,
    RequestStatus,
    decode,
    encode,
)
from tests.stream.dispatch.test_dispatch_responsibility import LIST

T0 = datetime(2026, 1, 10, 8, tzinfo=timezone.utc)
CELL = "231102001001001"
_ids = itertools.count()


def report(service: str = "heating_cold", cell: str | None = CELL, report_id: str = "311-1") -> GridEvent:
    return GridEvent(source="open311", event_time=T0, report_id=report_id, service_code=service, lon=127.47,
                     lat=50.26, cell_code=cell, description="家里只有十四度")


def action(kind: RequestAction, actor: str, minutes: float = 1, **fields: object) -> RequestActed:
    return RequestActed(source="test", event_time=T0 + timedelta(minutes=minutes), action_id=f"a{next(_ids)}",
                        request_id="311-1", action=kind, actor=actor, **fields)  # type: ignore[arg-type]


def received() -> Request:
    return receive(report(), place_of(CELL), LIST)


def test_a_report_is_routed_with_deadlines_and_its_path() -> None:
    request = received()
    assert (request.department, request.item_code, request.status, request.change) == (
        "heating", "HEA-001", RequestStatus.RECEIVED, "received")
    assert (request.accept_by, request.resolve_by) == (T0 + timedelta(hours=2), T0 + timedelta(days=1))
    changed = to_event(request)
    assert changed.grid_path == ["231100", "231102", "231102001", "231102001001", CELL]
    assert changed.responsible == CELL and changed.notified == ["heating"]
    assert decode(RequestChanged, encode(changed)) == changed
    assert decode_request(encode_request(request)) == request


def test_the_happy_path_to_closed() -> None:
    request = received()
    for kind, actor, fields, status in [
        (RequestAction.ACCEPT, "heating", {}, RequestStatus.ACCEPTED),
        (RequestAction.ASSIGN, "heating", {"assignee": "repair team 3"}, RequestStatus.ASSIGNED),
        (RequestAction.START, "heating", {}, RequestStatus.IN_PROGRESS),
        (RequestAction.RESOLVE, "heating", {}, RequestStatus.RESOLVED),
        (RequestAction.CLOSE, "grid-office", {}, RequestStatus.CLOSED),
    ]:
        request = act(request, action(kind, actor, request.revision, **fields), LIST)  # type: ignore[assignment]
        assert request.status is status and request.change == status.value
    assert request.revision == 6 and request.assignee == "repair team 3"
    assert (request.accepted_at, request.closed_at) == (T0 + timedelta(minutes=1), T0 + timedelta(minutes=5))
    assert report_status(to_event(request))["status"] == "closed"
    assert not retired(request, T0 + timedelta(days=6), timedelta(days=7))
    assert retired(request, T0 + timedelta(days=8), timedelta(days=7))


def test_a_redelivered_action_is_applied_once() -> None:
    accept = action(RequestAction.ACCEPT, "heating")
    once = act(received(), accept, LIST)
    assert once is not None and act(once, accept, LIST) is None


@pytest.mark.parametrize(("kind", "actor", "fields", "words"), [
    (RequestAction.ACCEPT, "water-supply", {}, "water-supply may not accept a request held by heating"),
    (RequestAction.REROUTE, "heating", {"reason": "x"}, "only the dispatcher (grid-office) may reroute"),
    (RequestAction.REJECT, "heating", {}, "reject needs a reason"),
    (RequestAction.RESOLVE, "heating", {}, "cannot resolve request 311-1: it is received (allowed: accept, "
                                            "assign, reject, reroute)"),
    (RequestAction.ASSIGN, "heating", {}, "assign needs an assignee"),
    (RequestAction.REROUTE, "grid-office", {"reason": "x", "item_code": "NOPE-001"}, "not in responsibilities.csv"),
    (RequestAction.REROUTE, "grid-office", {"reason": "x", "department": "mayor"}, "not in departments.csv"),
])
def test_a_refused_action_is_a_change_saying_why_and_the_status_stays(kind: RequestAction, actor: str,
                                                                       fields: dict[str, object],
                                                                       words: str) -> None:
    before = received()
    after = act(before, action(kind, actor, **fields), LIST)
    assert after is not None and (after.status, after.change, after.revision) == (before.status, "refused", 2)
    assert after.reason is not None and words in after.reason and after.notified == (actor,)


def test_not_ours_goes_back_to_the_dispatcher_never_closed() -> None:
    rejected = act(received(), action(RequestAction.REJECT, "heating", reason="a water main, not a heating pipe"),
                   LIST)
    assert rejected is not None and rejected.status is RequestStatus.REJECTED and rejected.department is None
    assert rejected.queue_reason == "rejected by heating: a water main, not a heating pipe"
    assert report_status(to_event(rejected)) | {"updated_datetime": ""} == {
        "status": "open", "status_notes": "with the dispatcher: rejected by heating: a water main, not a heating pipe",
        "agency_responsible": None, "expected_datetime": "2026-01-11T08:00:00+00:00", "updated_datetime": ""}
    assert tick(rejected, T0 + timedelta(days=30)) == []  # the queue is worked by the dispatcher, not escalated
    moved = act(rejected, action(RequestAction.REROUTE, "grid-office", 30, item_code="UTL-004",
                                 reason="water main burst"), LIST)
    assert moved is not None and (moved.status, moved.department, moved.item_code, moved.hazard) == (
        RequestStatus.REROUTED, "water-supply", "UTL-004", LIST.item("UTL-004").hazard)  # type: ignore[union-attr]
    assert (moved.actor, moved.reason, moved.accept_by) == ("grid-office", "water main burst",
                                                            T0 + timedelta(minutes=60))
    accepted = act(moved, action(RequestAction.ACCEPT, "water-supply", 31), LIST)
    assert accepted is not None and accepted.status is RequestStatus.ACCEPTED


def test_an_ignored_request_climbs_the_grid_one_level_per_step_each_step_notified() -> None:
    steps = tick(received(), T0 + timedelta(hours=9))
    assert [(s.escalation_level, s.responsible, s.updated_at) for s in steps] == [
        (1, "231102001001", T0 + timedelta(hours=2)), (2, "231102001", T0 + timedelta(hours=4)),
        (3, "231102", T0 + timedelta(hours=6)), (4, "231100", T0 + timedelta(hours=8))]
    assert [s.notified for s in steps] == [
        ("grid:231102001001", "heating"), ("grid:231102001", "heating"), ("grid:231102", "heating", "housing"),
        ("grid:231100", "heating", "housing")]  # housing: the heating items' escalation contact
    assert all(s.overdue == "accept" and s.change == "escalated" for s in steps)
    assert [s.revision for s in steps] == [2, 3, 4, 5] and len(steps[-1].escalations) == 4
    assert tick(steps[-1], T0 + timedelta(days=5)) == []  # the city is the top


def test_accepting_stops_the_climb_and_the_resolve_deadline_starts_it_again() -> None:
    late = tick(received(), T0 + timedelta(hours=3))[-1]
    accepted = act(late, action(RequestAction.ACCEPT, "heating", 200), LIST)
    assert accepted is not None and accepted.overdue is None and accepted.escalation_level == 1
    assert tick(accepted, T0 + timedelta(hours=23)) == []
    [overdue] = tick(accepted, T0 + timedelta(days=1))
    assert (overdue.escalation_level, overdue.overdue, overdue.reason) == (
        2, "resolve", "not resolved by 2026-01-11T08:00:00+00:00")


def test_an_unmapped_or_unplaced_request_waits_in_the_queue() -> None:
    unmapped = receive(report(service="unmapped_110"), place_of(CELL), LIST)
    unplaced = receive(report(cell=None), place_of(None), LIST)
    assert (unmapped.department, unmapped.change, unmapped.notified) == (None, "queued", ("grid-office",))
    assert unplaced.queue_reason == "the place is not known beyond the city" and unplaced.next_escalation is None


@given(st.lists(st.integers(0, 40 * 3600), min_size=1, max_size=6))
def test_ticking_in_pieces_escalates_exactly_as_ticking_once(offsets: list[int]) -> None:
    # the same drill replayed with other tick times gives the same escalations at the same event times
    start = received()
    current, pieces = start, []
    for offset in sorted(offsets):
        steps = tick(current, T0 + timedelta(seconds=offset))
        pieces += steps
        current = steps[-1] if steps else current
    once = tick(start, T0 + timedelta(seconds=max(offsets)))
    assert pieces == once
    assert [s.escalation_level for s in once] == list(range(1, len(once) + 1)) and len(once) <= 4


def test_the_lifecycle_table_never_closes_a_rejection() -> None:
    assert all(not (s is RequestStatus.REJECTED and to is RequestStatus.CLOSED)
               for (s, _), to in TRANSITIONS.items())
    assert (RequestStatus.REJECTED, RequestAction.REROUTE) in TRANSITIONS
    assert msgspec.structs.fields(Request)  # the table value is a plain msgspec struct
