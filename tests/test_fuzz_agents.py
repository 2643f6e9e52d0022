"""Fuzzing through a running ingest agent: Hypothesis-generated and mutated raw payloads produced onto the
raw-ingest topic of a running worker (the real Faust app on the embedded broker).

Each payload is followed on the same partition by a valid sentinel observation, so once the sentinel is
counted the payload before it has been handled: every payload must then have been processed (accepted or a
counted duplicate) or dead-lettered with its reason and counted — or held nothing at all (an empty batch).
The agent never stalls: every sentinel, and a last valid level after the whole batch, is processed.
The cases tried are recorded in ``test-artifacts/fuzz-cases.json`` as in tests/test_fuzz.py.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from stream import schemas
from stream.agents.ingest import install
from stream.ingest.inventory import Inventory, Site
from stream.ingest.outcome import Outcome
from stream.ingest.registry import load_registry
from stream.runtime.admin import ensure_topics
from stream.runtime.app import build_app, expected_topics
from tests.conftest import ARTIFACTS
from tests.helpers.faults import Feed, poll
from tests.test_fuzz import bodies, mutated

pytestmark = pytest.mark.integration

CASES = 150
STATION, STATION_SOURCE = "zz-sentinel", "meteorology.weather-stations"
"""The sentinel's station: in the test's inventory only, so no fuzzed payload can be a valid observation of it."""
INVENTORY = Inventory.from_sites([], [Site(STATION, 127.5, 50.2)], [Site("hlj-heihe", 127.5, 50.25)])
OUTCOMES = (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.DEAD_LETTERED)


def fresh_level(second: int) -> bytes:
    """A valid level of today (the fuzz module's seeds are older than the week a reading may be late)."""
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=second)
    return schemas.encode([schemas.WaterLevel(source="hydrology.river-gauges", event_time=at, gauge_id="hlj-heihe",
                                              stage_m=7.2)])


payloads = bodies | mutated(fresh_level(0)) | st.integers(0, 3600).map(fresh_level)


def sentinel(i: int) -> bytes:
    at = datetime.now(timezone.utc).replace(microsecond=i % 1_000_000)
    return schemas.encode([schemas.WeatherObservation(source=STATION_SOURCE, event_time=at, station_id=STATION,
                                                       temp_c=20.0, rh_pct=50.0, wind_kmh=5.0, rain_mm=0.0)])


def generated(strategy: st.SearchStrategy[bytes], n: int) -> list[bytes]:
    """``n`` varied examples of ``strategy`` (Hypothesis's generation phase, deterministic), to send in one run."""
    out: list[bytes] = []

    @settings(max_examples=n, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(payload: bytes) -> None:
        out.append(payload)

    collect()
    return out


def test_fuzzed_payloads_through_the_running_agent_are_processed_or_dead_lettered(make_settings) -> None:
    asyncio.run(through_the_agent(make_settings(partitions=1, ingest_clock="wall"), generated(payloads, CASES)))


async def through_the_agent(config, payloads: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    rt = build_app(config, agent_modules=[])
    install(rt, load_registry(), INVENTORY)
    feed = Feed(config)
    await ensure_topics(feed.bootstrap, expected_topics(rt))
    await rt.app.start()
    counter = rt.metrics.events

    def totals() -> Counter[tuple[str, Outcome]]:
        return Counter({(sample.labels["source"], Outcome(sample.labels["outcome"])): sample.value
                        for metric in counter.collect() for sample in metric.samples
                        if sample.name.endswith("_total")})

    def sentinels() -> float:
        return totals()[(STATION_SOURCE, Outcome.ACCEPTED)]

    kinds: Counter[str] = Counter()
    try:
        for i, payload in enumerate(payloads):
            before = totals()
            await feed.send(payload, partition=0)
            await feed.send(sentinel(i), partition=0)
            await poll(lambda: sentinels() == before[(STATION_SOURCE, Outcome.ACCEPTED)] + 1,
                       f"the sentinel after payload {i} ({payload[:80]!r})", 60, every_s=0.02)
            delta = totals() - before
            delta[(STATION_SOURCE, Outcome.ACCEPTED)] -= 1
            by_outcome = Counter({o: sum(n for (_, oo), n in delta.items() if oo is o) for o in OUTCOMES})
            # every rejected item went to the dead-letter topic, and was counted there
            assert by_outcome[Outcome.DEAD_LETTERED] == by_outcome[Outcome.REJECTED], (payload, delta)
            if by_outcome[Outcome.DEAD_LETTERED]:
                kinds["dead-lettered"] += 1
            elif by_outcome[Outcome.ACCEPTED] + by_outcome[Outcome.DUPLICATE]:
                kinds["processed"] += 1
            else:  # nothing counted: only a payload that held no item at all may do that
                assert payload.strip() in (b"[]", b"{}") or _is_empty_batch(payload), (payload, delta)
                kinds["empty"] += 1
        # no stall: a valid level after the whole batch is routed
        level = schemas.WaterLevel(source="hydrology.river-gauges", event_time=datetime.now(timezone.utc),
                                   gauge_id="hlj-heihe", stage_m=7.1)
        await feed.send(schemas.encode([level]), partition=0)

        async def routed() -> bool:
            return level in await feed.routed()

        await poll(routed, "the valid level after the fuzz batch", 120)
        letters = await feed.dead_letters()
    finally:
        await feed.close()
        await rt.app.stop()
    assert len(letters) == sum(n for (_, o), n in totals().items() if o is Outcome.DEAD_LETTERED)
    assert all(letter.reason and letter.topic == feed.raw for letter in letters)
    record({"agent: ingest_raw (raw payloads on the live worker)": len(payloads)})
    print(f"\nfuzz through the agent: {dict(kinds)}")


def _is_empty_batch(payload: bytes) -> bool:
    try:
        doc = json.loads(payload)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("type") == "reading_batch" and not doc.get("readings")


def record(tried: dict[str, int]) -> None:
    """Merge the cases tried into test-artifacts/fuzz-cases.json (tests/test_fuzz.py writes the others)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "fuzz-cases.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **tried}, indent=2, sort_keys=True) + "\n")
