"""One payload through decode → validate → dedupe → routing, without Kafka."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson

from stream.ingest.intake import (
    UNREGISTERED,
    Intake,
    dead_letter,
    decode_items,
    raw_text,
)
from stream.ingest.inventory import Inventory, Site
from stream.ingest.outcome import Outcome
from stream.ingest.registry import load_registry
from stream.ingest.validation import TimeLimits
from stream.schemas import ReadingBatch, SensorKind, SensorReading, WaterLevel, encode
from stream.topics import partition_for

REGISTRY = load_registry()
SENSORS = [Site(f"smoke-{i:05d}", 127.5, 50.2, SensorKind.SMOKE) for i in range(1, 51)]
INVENTORY = Inventory.from_sites(SENSORS, [Site("ws-001", 127.5, 50.2)], [Site("hlj-heihe", 127.5, 50.25)])
AT = datetime(2021, 7, 12, 8, 0, tzinfo=timezone.utc)
NOW = AT.timestamp()
SMOKE = "forestry.smoke-sensors"


def intake(partitions: int = 4) -> Intake:
    return Intake(REGISTRY, INVENTORY, TimeLimits(300, 86400), readings_partitions=partitions,
                  dedupe_window_s=900, dedupe_max_keys=10_000)


def smoke(sensor: str, value: float = 1.0, at: datetime = AT) -> SensorReading:
    return SensorReading(source=SMOKE, event_time=at, sensor_id=sensor, kind=SensorKind.SMOKE, value=value,
                         unit="%obs/m")


def test_batch_is_validated_deduped_and_grouped_by_partition() -> None:
    readings = [smoke(s.site_id) for s in SENSORS] + [smoke("smoke-00001"), smoke("smoke-99999"),
                                                       smoke("smoke-00002", value=-9999.0)]
    routed = intake().process(encode(ReadingBatch(source="feed", event_time=AT, readings=readings)), 0, NOW)
    assert routed.counts == {(SMOKE, Outcome.ACCEPTED): 50, (SMOKE, Outcome.DUPLICATE): 1,
                             (SMOKE, Outcome.REJECTED): 2}
    assert sorted(r.error.field for r in routed.rejected) == ["sensor_id", "value"]
    for partition, batch in routed.readings.items():
        assert all(partition_for(r.sensor_id, 4) == partition for r in batch)
    assert sum(len(b) for b in routed.readings.values()) == 50
    assert routed.seen == {SMOKE}


def test_duplicates_are_dropped_across_payloads_of_a_partition_only() -> None:
    it = intake()
    payload = encode(smoke("smoke-00003"))
    assert it.process(payload, 1, NOW).counts == {(SMOKE, Outcome.ACCEPTED): 1}
    assert it.process(payload, 1, NOW).counts == {(SMOKE, Outcome.DUPLICATE): 1}
    assert it.process(payload, 2, NOW).counts == {(SMOKE, Outcome.ACCEPTED): 1}  # windows are per partition
    it.forget({1})
    assert it.process(payload, 1, NOW).counts == {(SMOKE, Outcome.ACCEPTED): 1}


def test_one_undecodable_reading_does_not_sink_its_batch() -> None:
    doc = orjson.loads(encode(ReadingBatch(source="feed", event_time=AT,
                                           readings=[smoke("smoke-00004"), smoke("smoke-00005")])))
    doc["readings"][1]["value"] = "hot"
    items = decode_items(orjson.dumps(doc), REGISTRY)
    assert isinstance(items[0], SensorReading)
    bad = items[1]
    assert not isinstance(bad, SensorReading) and bad.index == 1 and bad.source == SMOKE
    assert bad.error.field == "value" and bad.error.value == "hot" and "readings[1]" in bad.error.reason


def test_garbage_is_one_rejection_with_the_raw_payload() -> None:
    routed = intake().process(b"\xff\xfe not json", 0, NOW)
    [rejection] = routed.rejected
    assert rejection.source == UNREGISTERED and rejection.raw.startswith("b64:")
    letter = dead_letter(rejection, "amur.ingest.raw", NOW)
    assert letter.topic == "amur.ingest.raw" and letter.event_time == AT and "not valid JSON" in letter.reason
    assert raw_text(b'{"a": 1}') == '{"a": 1}'


def test_unregistered_source_is_counted_under_one_label() -> None:
    payload = encode(SensorReading(source="x" * 100, event_time=AT, sensor_id="smoke-00001", kind=SensorKind.SMOKE,
                                   value=1.0, unit="%obs/m"))
    assert intake().process(payload, 0, NOW).counts == {(UNREGISTERED, Outcome.REJECTED): 1}


def test_mixed_array_routes_each_kind() -> None:
    level = WaterLevel(source="hydrology.river-gauges", event_time=AT, gauge_id="hlj-heihe", stage_m=7.0)
    routed = intake().process(encode([smoke("smoke-00006"), level]), 0, NOW)
    assert routed.levels == [level] and sum(len(b) for b in routed.readings.values()) == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stream.errors import InvalidEvent  # noqa: E402
from stream.ingest.validation import validate_reading  # noqa: E402


@settings(max_examples=300)
@given(value=st.one_of(st.floats(allow_nan=False, allow_infinity=False),  # JSON carries no NaN or inf
                       st.sampled_from([-9999.0, 0.0, 100.0, 100.5])),
       unit=st.sampled_from(["%obs/m", "fraction", "degC", "furlong"]),
       kind=st.sampled_from([SensorKind.SMOKE, SensorKind.TEMPERATURE]),
       sensor=st.sampled_from(["smoke-00001", "smoke-00050", "smoke-00051", "temperature-00001"]),
       source=st.sampled_from([SMOKE, "meteorology.temperature-sensors", "nobody"]),
       offset_s=st.sampled_from([-86401.0, -86400.0, 0.0, 300.0, 300.5]))
def test_intake_decides_exactly_as_validate_reading(value: float, unit: str, kind: SensorKind, sensor: str,
                                                    source: str, offset_s: float) -> None:
    from datetime import timedelta

    reading = SensorReading(source=source, event_time=AT + timedelta(seconds=offset_s), sensor_id=sensor, kind=kind,
                            value=value, unit=unit)
    routed = intake().process(encode(ReadingBatch(source="feed", event_time=AT, readings=[reading])), 0, NOW)
    routed_out = [r for batch in routed.readings.values() for r in batch]
    try:
        expected = validate_reading(reading, REGISTRY, INVENTORY, TimeLimits(300, 86400), NOW)
    except InvalidEvent as exc:
        assert routed_out == [] and [(r.error.field, r.error.reason) for r in routed.rejected] == [
            (exc.field, exc.reason)]
    else:
        assert routed_out == [expected] and routed.rejected == []


def test_event_clock_follows_the_stream_not_the_wall() -> None:
    from datetime import timedelta

    from stream.ingest.intake import stream_time

    drill = Intake(REGISTRY, INVENTORY, TimeLimits(300, 86400), readings_partitions=4, dedupe_window_s=900,
                   dedupe_max_keys=10_000, event_clock=True)
    year_ago = AT - timedelta(days=365)
    batch = [smoke(f"smoke-{i:05d}", at=year_ago) for i in range(1, 11)] + [
        smoke("smoke-00011", at=year_ago + timedelta(days=1))]
    routed = drill.process(encode(ReadingBatch(source="sim", event_time=year_ago, readings=batch)), 0, NOW)
    assert routed.counts == {(SMOKE, Outcome.ACCEPTED): 10, (SMOKE, Outcome.REJECTED): 1}
    assert routed.rejected[0].error.field == "event_time" and "future" in routed.rejected[0].error.reason
    assert drill.watermark == year_ago.timestamp()
    later = drill.process(encode(smoke("smoke-00012", at=year_ago + timedelta(minutes=1))), 0, NOW)
    assert later.counts == {(SMOKE, Outcome.ACCEPTED): 1}
    assert intake().process(encode(smoke("smoke-00013", at=year_ago)), 0, NOW).rejected  # the wall clock refuses
    assert stream_time([], None) is None and stream_time([], 5.0) == 5.0


def test_event_clock_accepts_a_batch_spanning_half_an_hour_but_not_a_wild_time() -> None:
    from datetime import timedelta

    it = Intake(REGISTRY, INVENTORY, TimeLimits(300, 86400), readings_partitions=4, dedupe_window_s=900,
                dedupe_max_keys=10_000, event_clock=True)
    backlog = [smoke(f"smoke-{i:05d}", at=AT + timedelta(minutes=10 * i)) for i in range(1, 5)]  # 30 min span
    routed = it.process(encode(backlog), 0, NOW + 10 * 86400.0)  # the wall clock is irrelevant here
    assert routed.counts == {(SMOKE, Outcome.ACCEPTED): 4}
    tight = [smoke(f"smoke-{i:05d}", at=AT + timedelta(minutes=40, seconds=i)) for i in range(10, 15)]
    tight.append(smoke("smoke-00020", at=AT + timedelta(days=3)))
    routed = it.process(encode(tight), 0, NOW)
    assert routed.counts == {(SMOKE, Outcome.ACCEPTED): 5, (SMOKE, Outcome.REJECTED): 1}
    assert routed.rejected[0].error.field == "event_time"
