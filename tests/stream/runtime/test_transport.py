"""stream.runtime.transport: the broker URL on Amur's transport, and when a partition is rewound past a gap
(the running case is tests/test_worker_takeover.py, where the rewind keeps a takeover from losing records)."""

from __future__ import annotations

from stream.runtime.transport import faust_broker_url, rewinds


def test_every_server_is_put_on_the_amur_transport() -> None:
    assert faust_broker_url("kafka://a:1;kafka://b:2") == "amur://a:1;amur://b:2"
    assert faust_broker_url("kafka://a:1,kafka://b:2") == "amur://a:1;amur://b:2"


def test_a_record_past_a_gap_rewinds_once_and_contiguous_records_never() -> None:
    assert rewinds(21, 49, None)  # 22-48 were never handed out: read them again
    assert not rewinds(21, 49, 21)  # rewound to 21 already and the gap is still there: a real gap
    assert rewinds(49, 60, 21)  # a later gap is a new one
    assert not rewinds(21, 22, None) and not rewinds(21, 21, None)  # the next record, or the last one again
    assert not rewinds(None, 49, None)  # nothing read yet on this partition: anywhere is a start
