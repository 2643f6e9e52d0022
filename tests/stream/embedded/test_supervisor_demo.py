"""`amur run`'s demonstration: when it plays, and what each part is told."""

from __future__ import annotations

import pytest

from stream.embedded.supervisor import demonstration_on, plan_parts
from stream.settings import load_settings


@pytest.mark.parametrize("overrides, simulators, expected", [
    ({}, True, True),
    ({"sim_demo": False}, True, False),
    ({}, False, False),
    ({"broker_url": "kafka://kafka:9092"}, True, False),  # someone else's broker may be production's
    ({"redis_url": "redis://redis:6379/0"}, True, False),
])
def test_the_demonstration_plays_only_on_the_embedded_stack_with_its_simulators(
        overrides: dict[str, object], simulators: bool, expected: bool) -> None:
    assert demonstration_on(load_settings(**overrides), simulators=simulators) is expected


def test_with_the_demonstration_workers_and_gateway_mark_it_and_the_feeds_play_it() -> None:
    parts = {p.name: p for p in plan_parts(load_settings(workers=2), demo_key="k-123")}
    for name in ("worker-1", "worker-2", "gateway"):
        assert dict(parts[name].env)["AMUR_DEMONSTRATION"] == "true"
    assert parts["sim-feeds"].argv[-4:] == ("sim", "feeds", "--resume", "--demo")
    for name in ("ingest", "sim-feeds"):  # the citizen's report and the 110 calls need keys the front door accepts
        assert dict(parts[name].env)["AMUR_OPEN311_API_KEYS"] == "k-123"
        assert dict(parts[name].env)["AMUR_FEED110_API_KEYS"] == "k-123"
    assert "AMUR_OPEN311_API_KEYS" not in dict(parts["gateway"].env)


def test_a_configured_key_is_kept_and_only_the_missing_one_is_made() -> None:
    parts = {p.name: p for p in plan_parts(load_settings(open311_api_keys="ops-key"), demo_key="k-123")}
    for name in ("ingest", "sim-feeds"):
        assert "AMUR_OPEN311_API_KEYS" not in dict(parts[name].env)  # the operator's own, from the environment
        assert dict(parts[name].env)["AMUR_FEED110_API_KEYS"] == "k-123"


def test_without_it_nothing_is_marked() -> None:
    for settings in (load_settings(sim_demo=False), load_settings(broker_url="kafka://kafka:9092")):
        parts = plan_parts(settings, demo_key="k-123")
        assert all("AMUR_DEMONSTRATION" not in dict(p.env) and "AMUR_OPEN311_API_KEYS" not in dict(p.env)
                   and "AMUR_FEED110_API_KEYS" not in dict(p.env) for p in parts)
        assert "--demo" not in next(p for p in parts if p.name == "sim-feeds").argv
