"""The recording archive: segments, manifest, checksums, bounds, damage."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from stream.drills.archive import (
    Segment,
    SegmentWriter,
    load_manifest,
    make_record,
    read_archive,
    to_prune,
    verify,
)

T0 = datetime(2024, 8, 1, tzinfo=timezone.utc)


def _write(root: Path, segments: int, per_segment: int = 3, image: bytes | None = None) -> SegmentWriter:
    writer = SegmentWriter(root)
    for s in range(segments):
        for i in range(per_segment):
            at = T0 + timedelta(minutes=s * per_segment + i)
            path = writer.add_image(image + bytes([s])) if image is not None else None
            topic = "frames.samples" if path else "ingest.raw"
            writer.append(make_record(topic, b"k", json.dumps({"n": s * per_segment + i}).encode(), at, path))
        writer.seal(now=1000.0 + s)
    return writer


def test_records_come_back_in_order_with_their_topic_key_payload_and_time(tmp_path: Path) -> None:
    _write(tmp_path, segments=2)
    records = list(read_archive(tmp_path))
    assert [json.loads(r.payload())["n"] for r in records] == list(range(6))
    assert {r.topic for r in records} == {"ingest.raw"} and records[0].key == "k"
    assert records[-1].event_time == T0 + timedelta(minutes=5)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["sources"] == {"ingest.raw": 6} and len(manifest["segments"]) == 2
    assert manifest["span"] == [T0.isoformat(), (T0 + timedelta(minutes=5)).isoformat()]


def test_a_payload_that_is_not_utf8_is_kept_byte_for_byte(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path)
    writer.append(make_record("ingest.raw", None, b"\xff\xfe not json", T0))
    writer.seal(now=1.0)
    [record] = read_archive(tmp_path)
    assert record.payload() == b"\xff\xfe not json" and record.key is None


def test_a_sound_archive_verifies(tmp_path: Path) -> None:
    _write(tmp_path, segments=2, image=b"jpeg")
    manifest, damage = verify(tmp_path)
    assert damage == [] and len(manifest.segments) == 2 and manifest.counts == {"frames.samples": 6}


def test_truncated_and_bit_flipped_segments_are_reported_and_skipped_the_rest_replays(tmp_path: Path) -> None:
    _write(tmp_path, segments=3)
    first, second, _ = load_manifest(tmp_path).segments
    path = tmp_path / "segments" / first.name
    path.write_bytes(path.read_bytes()[:-9])  # truncated: the gzip trailer is cut
    path = tmp_path / "segments" / second.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10  # one bit flipped
    path.write_bytes(bytes(data))

    _, damage = verify(tmp_path)
    assert [d.name for d in damage] == [first.name, second.name]
    assert all("checksum mismatch" in d.reason for d in damage)
    skipped: list = []
    assert [json.loads(r.payload())["n"] for r in read_archive(tmp_path, skipped)] == [6, 7, 8]
    assert [d.name for d in skipped] == [first.name, second.name]


def test_a_segment_whose_checksum_matches_but_cannot_be_read_is_skipped_too(tmp_path: Path) -> None:
    """A segment written damaged (a recorder killed mid-write, then sealed by hand): the manifest agrees with it."""
    _write(tmp_path, segments=2)
    manifest = load_manifest(tmp_path)
    path = tmp_path / "segments" / manifest.segments[0].name
    path.write_bytes(gzip.compress(b'{"topic": "ingest.raw"')[:-12])
    from stream.drills.archive import save_manifest, sha256_file

    manifest.segments[0].sha256 = sha256_file(path)
    save_manifest(tmp_path, manifest)
    skipped: list = []
    assert len(list(read_archive(tmp_path, skipped))) == 3
    assert "unreadable" in skipped[0].reason


def test_a_damaged_image_and_an_unsealed_segment_are_reported(tmp_path: Path) -> None:
    writer = _write(tmp_path, segments=1, image=b"jpeg")
    image = tmp_path / load_manifest(tmp_path).segments[0].images[0]
    image.write_bytes(b"other")
    writer.append(make_record("ingest.raw", None, b"{}", T0))  # the recorder stops before sealing it
    writer._file.flush()  # type: ignore[union-attr]
    _, damage = verify(tmp_path)
    assert [(d.name, d.reason.split(" (")[0]) for d in damage] == [
        (str(image.relative_to(tmp_path)), "checksum mismatch"), ("000002.jsonl.gz.open", "unsealed")]


def test_images_are_stored_once_by_content(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path)
    assert writer.add_image(b"same") == writer.add_image(b"same")
    assert len(list((tmp_path / "images").rglob("*.jpg"))) == 1


def test_pruning_drops_the_oldest_segments_and_the_images_only_they_used(tmp_path: Path) -> None:
    writer = _write(tmp_path, segments=3, image=b"jpeg")
    sizes = [s.size for s in writer.manifest.segments]
    gone = writer.prune(max_bytes=sizes[-1] + sizes[-2], max_age_s=1e9, now=2000.0)
    assert gone == ["000001.jsonl.gz"]
    assert [s.name for s in load_manifest(tmp_path).segments] == ["000002.jsonl.gz", "000003.jsonl.gz"]
    assert not (tmp_path / "segments" / "000001.jsonl.gz").exists()
    assert len(list((tmp_path / "images").rglob("*.jpg"))) == 2  # one image per remaining segment
    assert verify(tmp_path)[1] == []
    assert writer.prune(max_bytes=10**9, max_age_s=998.5, now=2000.0) == ["000002.jsonl.gz"]  # sealed at 1001, 999 s ago


def _segment(size: int, sealed_at: float) -> Segment:
    return Segment("s", "", size, 1, {}, "", "", sealed_at)


@given(st.lists(st.tuples(st.integers(1, 1000), st.floats(0, 100)), min_size=1, max_size=20),
       st.integers(1, 5000), st.floats(1, 200))
def test_pruning_keeps_the_newest_and_leaves_the_rest_within_bounds(items, max_bytes, max_age) -> None:
    segments = [_segment(size, at) for size, at in items]
    n = to_prune(segments, max_bytes, max_age, now=150.0)
    kept = segments[n:]
    assert kept, "the newest segment always stays"
    if len(kept) > 1:
        assert sum(s.size for s in kept) <= max_bytes and 150.0 - kept[0].sealed_at <= max_age
