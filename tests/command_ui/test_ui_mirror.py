"""The gateway's mirror advances strictly in sequence."""

from __future__ import annotations

from command_ui.mirror import Applied, Mirror, Update
from stream.screens.projection import Channel


def test_apply_in_order_duplicates_and_gaps() -> None:
    mirror = Mirror({Channel.INCIDENTS: {"a": b"1"}}, {Channel.INCIDENTS: 1})
    assert mirror.apply(Update(Channel.INCIDENTS, 2, "b", b"2")) is Applied.APPLIED
    assert mirror.apply(Update(Channel.INCIDENTS, 2, "b", b"2")) is Applied.DUPLICATE
    assert mirror.apply(Update(Channel.INCIDENTS, 4, "c", b"4")) is Applied.GAP
    assert mirror.apply(Update(Channel.INCIDENTS, 3, "a", None)) is Applied.APPLIED
    assert mirror.state[Channel.INCIDENTS] == {"b": b"2"}
    assert mirror.head[Channel.INCIDENTS] == 3 and mirror.head[Channel.CELLS] == 0
