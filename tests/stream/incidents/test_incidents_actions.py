"""Escalation up the grid, expiry, operator commands (role, scope, state) and delivery statuses."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.incidents.actions import command, delivered, tick
from stream.incidents.actions import step as apply_input
from stream.incidents.fusion import observe
from stream.incidents.lifecycle import TRANSITIONS
from stream.incidents.state import Area, Incident, to_event
from stream.schemas import (
    Colour,
    CommandAction,
    IncidentState,
    NotificationStatus,
    Role,
)
from tests.helpers.incidents import (
    CELL_A,
    CELL_B,
    PLACES,
    POLICY,
    VILLAGE,
    at,
    cmd,
    observed,
    recipients,
)


def raised(colour: Colour = Colour.RED, cells: list[str] | None = None) -> Area:
    area = Area(area_key="231102/fire")
    return observe(area, observed(0, "risk:a", colour, cells or [CELL_A]), PLACES, POLICY, recipients).area


def test_unacknowledged_red_escalates_one_level_each_limit_up_to_the_city() -> None:
    area = raised(Colour.RED)
    seen = []
    for minute in (4, 5, 6, 10, 15, 20, 25, 30):  # red limit: 5 minutes since raised or last escalation
        outcome = tick(area, at(minute), POLICY, recipients)
        area = outcome.area
        seen += [(minute, c.escalation_level, c.responsible) for c in outcome.changes if c.change == "escalated"]
    assert seen == [(5, 1, VILLAGE), (10, 2, VILLAGE[:9]), (15, 3, "231102"), (20, 4, "231100")]
    reasons = [(n.reason, n.contact) for n in area.incidents[0].notifications]
    assert reasons == [("raised", f"duty/{CELL_A}"), ("escalated", f"duty/{VILLAGE}"),
                       ("escalated", f"duty/{VILLAGE[:9]}"), ("escalated", "duty/231102"), ("escalated", "duty/231100")]


def test_acknowledged_incidents_do_not_escalate() -> None:
    area = raised(Colour.RED)
    incident_id = area.incidents[0].incident_id
    area = command(area, cmd(1, incident_id, CommandAction.ACKNOWLEDGE), POLICY, recipients).area
    outcome = tick(area, at(30), POLICY, recipients)
    assert outcome.changes == () and outcome.area.incidents[0].escalation_level == 0


def test_idle_incident_expires_and_long_closed_ones_are_forgotten() -> None:
    area = command(raised(Colour.BLUE), cmd(1, "x", CommandAction.ACKNOWLEDGE), POLICY, recipients).area
    outcome = tick(area, at(24 * 60), POLICY, recipients)
    assert [c.change for c in outcome.changes][-1] == "expired"
    assert outcome.area.incidents[0].state is IncidentState.EXPIRED
    forgotten = tick(outcome.area, at(24 * 60 + 6 * 60), POLICY, recipients).area
    assert forgotten.incidents == ()
    replayed = observe(forgotten, observed(0, "risk:a", Colour.BLUE, [CELL_A]), PLACES, POLICY, recipients)
    assert replayed.changes == () and replayed.area.incidents == ()  # too old to raise anything again


def test_viewer_out_of_scope_and_illegal_commands_are_refused_with_reasons() -> None:
    area = raised()
    incident = area.incidents[0]
    viewer = command(area, cmd(1, incident.incident_id, CommandAction.ACKNOWLEDGE, role=Role.VIEWER), POLICY,
                     recipients)
    assert viewer.changes[0].change == "command_refused" and "viewer" in viewer.changes[0].refusal
    assert viewer.changes[0].revision == incident.revision and viewer.changes[0].state is IncidentState.RAISED
    scope = command(area, cmd(1, incident.incident_id, CommandAction.ACKNOWLEDGE, scope="231123"), POLICY, recipients)
    assert CELL_A in scope.changes[0].refusal and "231123" in scope.changes[0].refusal
    city = command(area, cmd(1, incident.incident_id, CommandAction.ACKNOWLEDGE, scope="231100"), POLICY, recipients)
    assert city.changes[0].change == "acknowledged" and city.changes[0].revision == incident.revision + 1
    closed = command(area, cmd(1, incident.incident_id, CommandAction.RESOLVE), POLICY, recipients).area
    again = command(closed, cmd(2, incident.incident_id, CommandAction.ACKNOWLEDGE), POLICY, recipients)
    assert "cannot acknowledge" in again.changes[0].refusal and "resolved" in again.changes[0].refusal
    no_assignee = command(area, cmd(1, incident.incident_id, CommandAction.ASSIGN), POLICY, recipients)
    assert "assignee" in no_assignee.changes[0].refusal


def test_assign_notifies_the_assignee_and_a_replayed_command_is_ignored() -> None:
    area = raised(cells=[CELL_A, CELL_B])
    incident_id = area.incidents[0].incident_id
    assign = cmd(2, incident_id, CommandAction.ASSIGN, assignee="aihui-emergency", comment="levee team go")
    outcome = command(area, assign, POLICY, recipients)
    changed = outcome.changes[0]
    assert changed.state is IncidentState.ASSIGNED and changed.assignee == "aihui-emergency"
    assert changed.command_id == assign.command_id and changed.notes[0].text == "levee team go"
    assert ("assigned", "duty/aihui-emergency") in [(n.reason, n.contact) for n in changed.notifications]
    assert command(outcome.area, assign, POLICY, recipients).changes == ()


def test_reopen_restarts_the_acknowledgement_clock() -> None:
    area = raised(Colour.RED)
    incident_id = area.incidents[0].incident_id
    area = command(area, cmd(1, incident_id, CommandAction.RESOLVE), POLICY, recipients).area
    reopened = command(area, cmd(30, incident_id, CommandAction.REOPEN), POLICY, recipients)
    assert reopened.changes[0].state is IncidentState.RAISED and reopened.changes[0].change == "reopened"
    assert tick(reopened.area, at(34), POLICY, recipients).changes == ()
    assert tick(reopened.area, at(35), POLICY, recipients).changes[0].change == "escalated"


def test_delivery_status_is_recorded_once() -> None:
    area = raised()
    incident = area.incidents[0]
    pending = incident.notifications[0]
    done = NotificationStatus(source="notify", event_time=at(1), area_key=area.area_key,
                              incident_id=incident.incident_id,
                              notification=msgspec.structs.replace(pending, status="delivered", attempts=2,
                                                                   detail="HTTP 200"))
    outcome = delivered(area, done, POLICY, recipients)
    assert outcome.changes[0].change == "notified"
    assert outcome.changes[0].notifications[0].status == "delivered"
    assert delivered(outcome.area, done, POLICY, recipients).changes == ()


# ------------------------------------------------------------------ properties

anything = st.one_of(
    st.tuples(st.just("evidence"), st.sampled_from(["risk:1", "risk:2", "report:3"]), st.sampled_from(list(Colour)),
              st.sampled_from([CELL_A, CELL_B])),
    st.tuples(st.just("tick")),
    st.tuples(st.just("command"), st.sampled_from(list(CommandAction)), st.sampled_from(list(Role)),
              st.sampled_from(["231102", "231123", "231100"])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(anything, st.integers(0, 20)), max_size=40))
def test_published_history_follows_the_table_revision_by_revision(steps: list) -> None:
    area, minute, history = Area(area_key="231102/fire"), 0.0, []
    for n, (step, gap) in enumerate(steps):
        minute += gap
        if step[0] == "evidence":
            outcome = observe(area, observed(minute, step[1], step[2], [step[3]]), PLACES, POLICY, recipients)
        elif step[0] == "tick":
            outcome = tick(area, at(minute), POLICY, recipients)
        else:
            target = area.incidents[-1].incident_id if area.incidents else "231102-fire-000000000000"
            outcome = command(area, cmd(minute, target, step[1], command_id=f"c{n}", role=step[2], scope=step[3],
                                        assignee="aihui-emergency", comment="note"), POLICY, recipients)
        area, history = outcome.area, history + list(outcome.changes)
    last: dict[str, Incident] = {}
    for snapshot in history:
        before = last.get(snapshot.incident_id)
        if snapshot.change == "command_refused":
            assert before is not None and snapshot.revision == before.revision and snapshot.state == before.state
            assert snapshot.refusal
            continue
        if before is None:
            assert snapshot.revision == 1 and snapshot.state is IncidentState.RAISED
        else:
            assert snapshot.revision == before.revision + 1
            assert any(s == before.state and t == snapshot.state for (s, _), t in TRANSITIONS.items())
        last[snapshot.incident_id] = snapshot


# ------------------------------------------------------------------ timed rules on the event clock


def escalations(changes) -> list[tuple[int, object]]:  # type: ignore[no-untyped-def]
    return [(c.escalation_level, c.updated_at) for c in changes if c.change == "escalated"]


def test_a_late_tick_records_each_escalation_at_its_limit_time_in_order() -> None:
    area = raised(Colour.RED)  # raised at minute 0; red limit 5 minutes
    outcome = tick(area, at(23), POLICY, recipients)  # one tick, long after four limits went by
    assert escalations(outcome.changes) == [(1, at(5)), (2, at(10)), (3, at(15)), (4, at(20))]
    assert [c.revision for c in outcome.changes] == [2, 3, 4, 5]
    assert to_event(outcome.changes[0], "amur").event_time == at(5)  # what the audit log and the wall see
    assert outcome.area.clock == at(23)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 40.0), max_size=12))
def test_escalation_times_do_not_depend_on_when_ticks_come(tick_minutes: list[float]) -> None:
    """Busy or idle, ticks early or late: the same escalations at the same event times."""
    area, seen = raised(Colour.RED), []
    for minute in sorted(tick_minutes) + [40.0]:
        outcome = tick(area, at(minute), POLICY, recipients)
        area, seen = outcome.area, seen + escalations(outcome.changes)
    assert seen == [(1, at(5)), (2, at(10)), (3, at(15)), (4, at(20))]


def test_evidence_after_a_missed_tick_first_applies_the_escalation_that_fell_due() -> None:
    area = raised(Colour.RED)
    later = observed(7, "risk:b", Colour.RED, [CELL_B])  # no tick between minute 0 and 7
    outcome = apply_input(area, later, PLACES, POLICY, recipients)
    assert [(c.change, c.updated_at) for c in outcome.changes] == [("escalated", at(5)), ("extended", at(7))]


def test_an_upgrade_that_leaves_the_incident_overdue_escalates_at_the_upgrade() -> None:
    area = raised(Colour.BLUE)  # blue limit: 60 minutes
    outcome = apply_input(area, observed(20, "risk:a", Colour.RED, [CELL_A]), PLACES, POLICY, recipients)
    assert [(c.change, c.updated_at) for c in outcome.changes] == [("upgraded", at(20)), ("escalated", at(20))]
    assert escalations(tick(outcome.area, at(31), POLICY, recipients).changes) == [(2, at(25)), (3, at(30))]


def test_downgrade_and_expiry_take_effect_at_their_own_times() -> None:
    area = raised(Colour.ORANGE)
    area = command(area, cmd(1, area.incidents[0].incident_id, CommandAction.ACKNOWLEDGE), POLICY, recipients).area
    area = apply_input(area, observed(10, "risk:a", Colour.BLUE, [CELL_A]), PLACES, POLICY, recipients).area
    outcome = tick(area, at(48 * 60), POLICY, recipients)  # two days later
    assert [(c.change, c.updated_at) for c in outcome.changes] == [("downgraded", at(25)),
                                                                  ("expired", at(10 + 24 * 60))]
