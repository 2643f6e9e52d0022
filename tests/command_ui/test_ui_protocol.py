"""The websocket protocol, sans I/O: client messages and the resume plan."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from command_ui.errors import ProtocolError
from command_ui.protocol import (
    CommandMessage,
    Hello,
    parse_client_message,
    plan_resume,
    update_message,
)
from stream import schemas
from stream.screens.projection import Channel


def test_hello_and_command_decode() -> None:
    hello = parse_client_message('{"type":"hello","token":"t","resume":{"incidents":3}}')
    assert hello == Hello(token="t", resume={Channel.INCIDENTS: 3})
    command = parse_client_message(b'{"type":"command","command_id":"c","incident_id":"i","action":"resolve"}')
    assert isinstance(command, CommandMessage) and command.action is schemas.CommandAction.RESOLVE


@pytest.mark.parametrize("raw, message", [
    ("not json", "not valid JSON"),
    ('{"type":"shout"}', "invalid message"),
    ('{"type":"command","command_id":"c","incident_id":"i","action":"delete"}', "action"),
    ('{"type":"hello","token":"t","resume":{"nowhere":1}}', "invalid message"),
    ('{"type":"hello","token":"t","extra":1}', "extra"),
])
def test_bad_messages_are_refused_with_the_reason(raw: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_client_message(raw)


def test_update_message_embeds_the_stored_json() -> None:
    message = orjson.loads(update_message(Channel.CELLS, 7, "flood:1", b'{"colour":"red"}'))
    assert message == {"type": "update", "ch": "cells", "seq": 7, "key": "flood:1", "data": {"colour": "red"}}
    assert orjson.loads(update_message(Channel.CELLS, 8, "flood:1", None))["data"] is None


ALL = {c: 0 for c in Channel}


def test_no_positions_or_partial_positions_mean_snapshot() -> None:
    assert plan_resume(None, ALL, {}).snapshot
    assert plan_resume({Channel.INCIDENTS: 0}, ALL, {}).snapshot


def test_future_position_means_snapshot() -> None:
    assert plan_resume({**ALL, Channel.CELLS: 5}, {**ALL, Channel.CELLS: 4}, {Channel.CELLS: 1}).snapshot


@given(st.dictionaries(st.sampled_from(list(Channel)),
                       st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(1, 60)), min_size=0))
def test_backfill_is_exactly_the_missed_range_or_a_snapshot(spec: dict) -> None:
    requested, head, oldest = dict(ALL), dict(ALL), {c: None for c in Channel}
    for channel, (last, missed, first) in spec.items():
        requested[channel], head[channel], oldest[channel] = last, last + missed, first
    plan = plan_resume(requested, head, oldest)
    trimmed = any(head[c] > requested[c] and (oldest[c] is None or oldest[c] > requested[c] + 1) for c in Channel)
    assert plan.snapshot is trimmed
    if not plan.snapshot:
        got = {b.channel: (b.after, b.upto) for b in plan.backfills}
        assert got == {c: (requested[c], head[c]) for c in Channel if head[c] > requested[c]}


def test_a_backlog_larger_than_allowed_means_snapshot() -> None:
    requested = {**ALL, Channel.CELLS: 10}
    head = {**ALL, Channel.CELLS: 30}
    assert not plan_resume(requested, head, {Channel.CELLS: 1}, max_updates=20).snapshot
    assert plan_resume(requested, head, {Channel.CELLS: 1}, max_updates=19).snapshot


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200),
                 st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=20),
                              lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                          max_size=4),
                              max_leaves=10).map(lambda v: orjson.dumps(v))))
def test_any_input_is_accepted_or_refused_with_protocol_error(raw) -> None:
    """Fuzz: a client frame decodes to a known message or raises ProtocolError, never anything else."""
    try:
        message = parse_client_message(raw)
    except ProtocolError:
        return
    assert isinstance(message, (Hello, CommandMessage))
