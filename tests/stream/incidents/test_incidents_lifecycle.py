"""The lifecycle table: what is allowed, what is refused, and that every incident can end."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.incidents.lifecycle import (
    FINAL_STATES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    allowed,
    next_state,
    operator_action,
)
from stream.schemas import CommandAction, IncidentState


def reachable_from(state: IncidentState) -> set[IncidentState]:
    seen, queue = {state}, deque([state])
    while queue:
        current = queue.popleft()
        for (source, _), target in TRANSITIONS.items():
            if source == current and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def test_the_main_path_raised_acknowledged_assigned_resolved() -> None:
    state = IncidentState.RAISED
    for action, expected in ((Action.ACKNOWLEDGE, IncidentState.ACKNOWLEDGED),
                             (Action.ASSIGN, IncidentState.ASSIGNED), (Action.RESOLVE, IncidentState.RESOLVED),
                             (Action.REOPEN, IncidentState.RAISED)):
        state = next_state(state, action)
        assert state is expected


def test_illegal_transition_names_state_and_action() -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_state(IncidentState.RESOLVED, Action.ACKNOWLEDGE, "231102-fire-abc")
    message = str(caught.value)
    assert "acknowledge" in message and "resolved" in message and "231102-fire-abc" in message
    assert "reopen" in message  # it lists what is allowed instead


def test_escalation_only_while_nobody_acknowledged() -> None:
    assert allowed(IncidentState.RAISED, Action.ESCALATE)
    assert not allowed(IncidentState.ACKNOWLEDGED, Action.ESCALATE)
    assert not allowed(IncidentState.ASSIGNED, Action.ESCALATE)


def test_closed_incidents_take_no_evidence_and_cannot_expire_again() -> None:
    for state in FINAL_STATES:
        assert not allowed(state, Action.EVIDENCE)
        assert not allowed(state, Action.EXPIRE)
        assert not allowed(state, Action.RESOLVE)


def test_every_operator_command_is_an_action() -> None:
    assert {operator_action(a) for a in CommandAction} <= set(Action)


@given(st.sampled_from(list(IncidentState)))
def test_every_state_can_reach_a_final_state(state: IncidentState) -> None:
    assert reachable_from(state) & FINAL_STATES


@given(st.lists(st.sampled_from(list(Action)), max_size=40))
def test_any_action_sequence_stays_in_the_table_and_can_still_end(actions: list[Action]) -> None:
    state = IncidentState.RAISED
    for action in actions:
        if allowed(state, action):
            state = next_state(state, action)
        else:
            with pytest.raises(IllegalTransition):
                next_state(state, action)
    # from wherever the sequence left it, resolve or expire closes it in one step, or it is closed
    assert state in FINAL_STATES or allowed(state, Action.RESOLVE) and allowed(state, Action.EXPIRE)
