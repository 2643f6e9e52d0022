"""Evidence frames on disk: references, retention under the size limit, oldest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers.diskfull import full_disk  # noqa: F401 - the fixture
from vision.evidence import EvidenceStore, evidence_ref


def test_retention_deletes_oldest_first_and_survives_a_restart(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=10_000)
    t0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
    refs = [evidence_ref("cam1", t0 + timedelta(seconds=i)) for i in range(8)]
    for i, ref in enumerate(refs):
        store.save(ref, bytes([i]) * 3000, mtime=1000.0 + i)
    assert store.total <= 10_000 and store.deleted == 5
    assert [store.path_of(r).exists() for r in refs] == [False] * 5 + [True] * 3
    restarted = EvidenceStore(tmp_path, max_bytes=5_000)  # a smaller limit applies to what is on disk
    assert restarted.total == 3000 and store.path_of(refs[-1]).read_bytes() == bytes([7]) * 3000


def test_references_name_camera_and_time_and_refuse_escapes(tmp_path: Path) -> None:
    ref = evidence_ref("cam1", datetime(2026, 7, 1, 3, 4, 5, 678, tzinfo=timezone.utc))
    assert ref == "evidence:cam1/20260701T030405_000678Z.jpg"
    store = EvidenceStore(tmp_path, max_bytes=1000)
    assert store.path_of(ref) == tmp_path / "cam1" / "20260701T030405_000678Z.jpg"
    with pytest.raises(ValueError, match="ref"):
        store.path_of("evidence:../../etc/passwd")


def test_a_full_disk_refuses_the_frame_counted_and_leaves_nothing_half_written(full_disk: Path) -> None:
    store = EvidenceStore(full_disk / "evidence", max_bytes=10_000_000)
    ref = evidence_ref("cam-1", datetime(2026, 7, 1, tzinfo=timezone.utc))
    assert store.save(ref, b"\xff" * 8000, 1.0) is False
    assert (store.failed, store.total) == (1, 0)
    assert store.last_error is not None and "No space left on device" in store.last_error
    assert not store.path_of(ref).exists()
    (full_disk / "filler").unlink()  # space again: the next frame is kept
    assert store.save(ref, b"\xff" * 8000, 2.0) is True and store.path_of(ref).read_bytes() == b"\xff" * 8000
