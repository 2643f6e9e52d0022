"""API keys of the write paths: constant-time match, and wrong keys limited per client address."""

from __future__ import annotations

from stream.ingest.http.keys import FailureLimit, key_accepted, parse_keys


def test_keys_are_parsed_and_matched_exactly() -> None:
    keys = parse_keys(" a1, ,b2,")
    assert keys == frozenset({"a1", "b2"})
    assert key_accepted("a1", keys) and not key_accepted("a", keys) and not key_accepted("a1 ", keys)
    assert not key_accepted(None, keys) and not key_accepted("", keys) and not key_accepted("a1", frozenset())


def test_wrong_keys_block_the_address_then_refill() -> None:
    limit = FailureLimit(per_minute=6.0, burst=3)
    for _ in range(3):
        assert not limit.blocked("10.0.0.9", 100.0)
        limit.failed("10.0.0.9", 100.0)
    assert limit.blocked("10.0.0.9", 100.0) and not limit.blocked("10.0.0.8", 100.0)
    assert limit.blocked("10.0.0.9", 109.0) and not limit.blocked("10.0.0.9", 110.0)  # one try per 10 s


def test_memory_stays_bounded_under_a_spray_of_addresses() -> None:
    limit = FailureLimit(max_clients=100)
    for i in range(1000):
        limit.failed(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(limit._spent) == 100
