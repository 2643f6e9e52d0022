"""Evidence frames on disk: references, retention under the size limit, oldest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

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
