"""Evidence frames on disk under a size limit: the frames behind findings, oldest deleted first.

Files are ``{root}/{camera_id}/{YYYYmmddTHHMMSS_ffffff}Z.jpg``; a reference is
``evidence:{camera_id}/{name}`` (what findings and frame samples carry). Over the
limit, files are deleted oldest first, in the order they were written.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REF_PREFIX = "evidence:"


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    mtime: float


def evidence_ref(camera_id: str, at: datetime) -> str:
    return f"{REF_PREFIX}{camera_id}/{at.strftime('%Y%m%dT%H%M%S_%f')}Z.jpg"


class EvidenceStore:
    """Writes evidence frames and keeps the directory under ``max_bytes`` (blocking file I/O)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)
        existing = [StoredFile(p, (st := p.stat()).st_size, st.st_mtime) for p in root.glob("*/*.jpg")]
        self._files: deque[StoredFile] = deque(sorted(existing, key=lambda f: (f.mtime, str(f.path))))
        self.total = sum(f.size for f in self._files)
        self.deleted = 0
        self.failed = 0
        """Frames the file system refused (disk full): their findings were published without evidence."""
        self.last_error: str | None = None
        self._trim()

    def path_of(self, ref: str) -> Path:
        if not ref.startswith(REF_PREFIX) or ".." in ref:
            raise ValueError(f"ref: not an evidence reference: {ref!r}")
        return self.root / ref[len(REF_PREFIX):]

    def save(self, ref: str, data: bytes, mtime: float) -> bool:
        """Keep ``data`` as ``ref``; False (counted in :attr:`failed`, the error in :attr:`last_error`) when the
        file system refuses it — a full disk, a read-only mount — so the frame's findings go on without it."""
        path = self.path_of(ref)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            path.unlink(missing_ok=True)  # no partial frame left behind
            self.failed += 1
            self.last_error = f"{type(exc).__name__}: {exc.strerror or exc}"
            return False
        self._files.append(StoredFile(path, len(data), mtime))
        self.total += len(data)
        self._trim()
        return True

    def _trim(self) -> None:
        """Delete the oldest files until the total is within the limit (the newest file always stays)."""
        while self.total > self.max_bytes and len(self._files) > 1:
            oldest = self._files.popleft()
            oldest.path.unlink(missing_ok=True)
            self.total -= oldest.size
            self.deleted += 1
