"""Departments' and the dispatcher's actions over HTTP: who a key is, and the wire action a body becomes."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest

from stream.errors import ConfigError, InvalidEvent
from stream.ingest.http.dispatch_actions import action_event, actor_of, parse_actor_keys
from stream.schemas import RequestAction

NOW = datetime(2026, 7, 20, 8, tzinfo=timezone.utc)
DEPARTMENTS = {"grid-office", "heating", "water-supply"}


def test_keys_name_departments() -> None:
    keys = parse_actor_keys(" grid-office:k1, heating:k2 ,", DEPARTMENTS)
    assert keys == {"k1": "grid-office", "k2": "heating"}
    assert actor_of("k2", keys) == "heating"
    for given in (None, "", "k3"):
        with pytest.raises(InvalidEvent, match="api_key missing or not accepted"):
            actor_of(given, keys)
    with pytest.raises(InvalidEvent, match="actions are disabled"):
        actor_of("k1", {})
    for bad in ("mayor:k9", "heating", "heating:"):
        with pytest.raises(ConfigError, match="AMUR_DISPATCH_API_KEYS"):
            parse_actor_keys(bad, DEPARTMENTS)


def test_a_body_becomes_a_checked_action_of_the_keys_department() -> None:
    acted = action_event("311-7", orjson.dumps({"action": "reject", "reason": "not ours", "action_id": "a-1"}),
                         "heating", NOW)
    assert (acted.request_id, acted.action, acted.actor, acted.reason, acted.action_id) == (
        "311-7", RequestAction.REJECT, "heating", "not ours", "a-1")
    assert action_event("311-7", b'{"action": "accept"}', "heating", NOW).action_id  # one is made up


@pytest.mark.parametrize(("body", "field"), [
    (b'{"action": "burn"}', "action"), (b'{"action": "accept", "actor": "grid-office"}', "actor"),
    (b"[1]", "body"), (b"{", "body"), (b'{"action": "assign", "assignee": 7}', "assignee"),
])
def test_a_bad_body_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        action_event("311-7", body, "heating", NOW)
    assert info.value.field == field
