"""The recording archive: a portable, append-only directory a drill can replay.

Layout::

    ARCHIVE/manifest.json               what is in it (rewritten atomically after every sealed segment)
    ARCHIVE/segments/000001.jsonl.gz    sealed segments, oldest first
    ARCHIVE/segments/000007.jsonl.gz.open  the segment being written (not yet in the manifest)
    ARCHIVE/images/ab/ab12....jpg       frame images, named by their SHA-256

A segment is gzip-compressed JSON lines, one :class:`Record` per line. Why gzip:
it is in the standard library (no new dependency on a path that must not fail),
every segment is a complete stream an operator can read with ``zcat``, and the
recorded payloads are small JSON documents that gzip shrinks five- to tenfold;
zstd would compress faster but needs a compiled package for a gain the recorder
does not need (its cost is measured in docs/PERFORMANCE.md).

The manifest holds, per sealed segment, its SHA-256, size, record count per
topic, first and last event time, the images it references and the wall time it
was sealed. Images are content-addressed, so their file name is their checksum.
Bounds: :func:`to_prune` picks the oldest segments to delete once the archive
is over its size or a segment is older than the age limit (by seal time).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec

from stream.errors import AmurError

FORMAT = "amur-archive/1"
MANIFEST = "manifest.json"
OPEN_SUFFIX = ".open"


class Record(msgspec.Struct, omit_defaults=True):
    """One recorded message: its live topic (short name, e.g. ``ingest.raw``), key, payload, event time."""

    topic: str
    event_time: datetime
    key: str | None = None
    value: str | None = None
    """The payload as UTF-8 text (every Amur input is JSON) ..."""
    value_b64: str | None = None
    """... or base64 when it is not valid UTF-8 (refused input is recorded too)."""
    image: str | None = None
    """Path of the frame image, relative to the archive (frame samples only)."""

    def payload(self) -> bytes:
        if self.value_b64 is not None:
            return base64.b64decode(self.value_b64)
        return (self.value or "").encode()


def make_record(topic: str, key: bytes | None, value: bytes, event_time: datetime, image: str | None = None) -> Record:
    try:
        text, b64 = value.decode("utf-8"), None
    except UnicodeDecodeError:
        text, b64 = None, base64.b64encode(value).decode()
    return Record(topic=topic, event_time=event_time, key=key.decode("utf-8", "replace") if key else None,
                  value=text, value_b64=b64, image=image)


_encode = msgspec.json.Encoder().encode
_decode_record = msgspec.json.Decoder(Record).decode


@dataclass(slots=True)
class Segment:
    name: str
    sha256: str
    bytes: int
    records: int
    counts: dict[str, int]
    first_event: str
    last_event: str
    sealed_at: float
    """POSIX wall time the segment was sealed (the age bound counts from it)."""
    images: list[str] = field(default_factory=list)
    image_bytes: int = 0
    """Bytes of the images this segment added (an image shared with a later segment is counted here once)."""

    @property
    def size(self) -> int:
        return self.bytes + self.image_bytes


@dataclass(slots=True)
class Manifest:
    segments: list[Segment] = field(default_factory=list)
    next_number: int = 1
    pruned: int = 0
    """Segments deleted so far to keep the bounds."""

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for segment in self.segments:
            for topic, n in segment.counts.items():
                out[topic] = out.get(topic, 0) + n
        return dict(sorted(out.items()))

    def to_json(self) -> str:
        span = [min((s.first_event for s in self.segments), default=None),
                max((s.last_event for s in self.segments), default=None)]
        return json.dumps({"format": FORMAT, "span": span, "sources": self.counts, "next_number": self.next_number,
                           "pruned": self.pruned, "segments": [asdict(s) for s in self.segments]}, indent=1)


def load_manifest(root: Path) -> Manifest:
    path = root / MANIFEST
    if not path.exists():
        return Manifest()
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise AmurError(f"{path}: format {data.get('format')!r} is not {FORMAT}")
        return Manifest([Segment(**s) for s in data["segments"]], data["next_number"], data.get("pruned", 0))
    except (ValueError, KeyError, TypeError) as exc:
        raise AmurError(f"{path}: not a readable archive manifest ({exc})") from None


def save_manifest(root: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (a reader sees the old or the new one, never half)."""
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(manifest.to_json())
    os.replace(tmp, root / MANIFEST)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_path(digest: str) -> str:
    return f"images/{digest[:2]}/{digest}.jpg"


def to_prune(segments: Sequence[Segment], max_bytes: int, max_age_s: float, now: float) -> int:
    """How many of the oldest segments go: until the rest fit in ``max_bytes`` and none is older than
    ``max_age_s`` (by seal time). The newest segment always stays."""
    total = sum(s.size for s in segments)
    n = 0
    while n < len(segments) - 1 and (total > max_bytes or now - segments[n].sealed_at > max_age_s):
        total -= segments[n].size
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class Damage:
    """What is wrong with one part of an archive."""

    name: str
    reason: str


def check_segment(root: Path, segment: Segment) -> Damage | None:
    path = root / "segments" / segment.name
    if not path.exists():
        return Damage(segment.name, "missing")
    actual = sha256_file(path)
    if actual != segment.sha256:
        return Damage(segment.name, f"checksum mismatch (manifest {segment.sha256[:12]}..., file {actual[:12]}...)")
    return None


def verify(root: Path) -> tuple[Manifest, list[Damage]]:
    """Check every segment's and every image's checksum; the damaged parts (an unsealed segment is noted)."""
    manifest = load_manifest(root)
    damage = [d for s in manifest.segments if (d := check_segment(root, s)) is not None]
    for image in sorted({i for s in manifest.segments for i in s.images}):
        path = root / image
        if not path.exists():
            damage.append(Damage(image, "missing"))
        elif sha256_file(path) != Path(image).stem:
            damage.append(Damage(image, "checksum mismatch"))
    damage += [Damage(p.name, "unsealed (the recorder stopped while writing it; not replayed)")
               for p in sorted((root / "segments").glob(f"*{OPEN_SUFFIX}"))]
    return manifest, damage


def read_segment(path: Path) -> list[Record]:
    """Every record of one segment; AmurError if it is truncated or corrupt (read whole or not at all)."""
    try:
        with gzip.open(path, "rb") as f:
            return [_decode_record(line) for line in f if line.strip()]
    except (OSError, EOFError, zlib.error, msgspec.DecodeError) as exc:
        raise AmurError(f"segment {path.name}: unreadable ({type(exc).__name__}: {exc})") from None


def read_archive(root: Path, skipped: list[Damage] | None = None) -> Iterator[Record]:
    """The records of every sound segment, oldest segment first; a damaged one is skipped and noted in ``skipped``."""
    for segment in load_manifest(root).segments:
        damage = check_segment(root, segment)
        if damage is None:
            try:
                yield from read_segment(root / "segments" / segment.name)
                continue
            except AmurError as exc:
                damage = Damage(segment.name, str(exc))
        if skipped is not None:
            skipped.append(damage)


def is_archive(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).exists()


class SegmentWriter:
    """Appends records to the open segment and seals it into the manifest (blocking file I/O)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "segments").mkdir(parents=True, exist_ok=True)
        self.manifest = load_manifest(root)
        self._file: gzip.GzipFile | None = None
        self._image_bytes = 0
        self._counts: dict[str, int] = {}
        self._images: set[str] = set()
        self._first: str | None = None
        self._last: str | None = None
        self.records = 0

    @property
    def open_path(self) -> Path:
        return self.root / "segments" / f"{self.manifest.next_number:06d}.jsonl.gz{OPEN_SUFFIX}"

    def add_image(self, data: bytes) -> str:
        """Store a frame image (once per content); its path relative to the archive."""
        relative = image_path(hashlib.sha256(data).hexdigest())
        path = self.root / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self._image_bytes += len(data)
        self._images.add(relative)
        return relative

    def append(self, record: Record) -> None:
        if self._file is None:
            self._file = gzip.open(self.open_path, "wb")
        self._file.write(_encode(record) + b"\n")
        stamp = record.event_time.isoformat()
        self._first = stamp if self._first is None or stamp < self._first else self._first
        self._last = stamp if self._last is None or stamp > self._last else self._last
        self._counts[record.topic] = self._counts.get(record.topic, 0) + 1
        if record.image:
            self._images.add(record.image)
        self.records += 1

    def written_bytes(self) -> int:
        return self.open_path.stat().st_size if self._file is not None and self.open_path.exists() else 0

    def seal(self, now: float) -> Segment | None:
        """Close the open segment, checksum it and add it to the manifest; None if it is empty."""
        if self._file is None:
            return None
        self._file.close()
        self._file = None
        final = self.open_path.with_suffix("")  # drop ".open"
        os.replace(self.open_path, final)
        segment = Segment(final.name, sha256_file(final), final.stat().st_size, self.records, dict(self._counts),
                          self._first or "", self._last or "", now, sorted(self._images), self._image_bytes)
        self.manifest.segments.append(segment)
        self.manifest.next_number += 1
        save_manifest(self.root, self.manifest)
        self._reset()
        return segment

    def discard(self) -> None:
        """Drop the open segment (after a write failed); its messages are recorded again from the last commit."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        self.open_path.unlink(missing_ok=True)
        self._reset()

    def prune(self, max_bytes: int, max_age_s: float, now: float) -> list[str]:
        """Delete the oldest segments beyond the bounds, and the images no remaining segment uses."""
        n = to_prune(self.manifest.segments, max_bytes, max_age_s, now)
        if not n:
            return []
        gone, self.manifest.segments = self.manifest.segments[:n], self.manifest.segments[n:]
        self.manifest.pruned += n
        save_manifest(self.root, self.manifest)  # first the manifest, so it never names a deleted file
        kept = {i for s in self.manifest.segments for i in s.images}
        for segment in gone:
            (self.root / "segments" / segment.name).unlink(missing_ok=True)
            for image in set(segment.images) - kept:
                (self.root / image).unlink(missing_ok=True)
        return [s.name for s in gone]

    def _reset(self) -> None:
        self._counts, self._images, self._first, self._last, self.records = {}, set(), None, None, 0
        self._image_bytes = 0
