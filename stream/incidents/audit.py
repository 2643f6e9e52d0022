"""An append-only, hash-chained audit log of every incident change (JSON lines).

Each record holds ``seq``, ``prev`` (the previous record's hash; 64 zeros for the
first), ``kind``, ``key``, ``time``, ``data`` and ``hash`` = SHA-256 of the
canonical JSON (sorted keys, no spaces, UTF-8) of the record without ``hash``.
Editing a record breaks its hash; removing or reordering records breaks a
``prev`` link or the ``seq`` run; cutting the tail is caught against a head
hash recorded elsewhere (:func:`holds_head`). Appends take an exclusive ``flock``
so several workers on one host share one chain, and skip a ``key`` already
logged (at-least-once replays do not double the history). The command that
checks a log, ``amur audit verify``, is ``stream.cli.audit``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from stream.errors import AmurError

GENESIS = "0" * 64


class AuditBroken(AmurError):
    """The chain does not verify; names the first broken record."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        super().__init__(f"record {line} is broken: {reason}")


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def chain_record(prev: str, seq: int, kind: str, key: str, when: datetime, data: Any) -> dict[str, Any]:
    record = {"seq": seq, "prev": prev, "kind": kind, "key": key, "time": when.isoformat(), "data": data}
    record["hash"] = record_hash(record)
    return record


@dataclass(frozen=True)
class ChainHead:
    count: int
    head: str


def verify_lines(lines: Iterable[str]) -> ChainHead:
    """Check every record; :class:`AuditBroken` names the first one (1-based line number) that fails."""
    prev, count = GENESIS, 0
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise AuditBroken(number, f"not JSON ({exc})") from None
        if not isinstance(record, dict) or "hash" not in record:
            raise AuditBroken(number, "not an audit record")
        if record.get("seq") != count:
            raise AuditBroken(number, f"seq {record.get('seq')!r}, expected {count} (a record was removed or moved)")
        if record.get("prev") != prev:
            raise AuditBroken(number, "prev does not match the previous record's hash (removed or reordered)")
        if record_hash(record) != record["hash"]:
            raise AuditBroken(number, "hash does not match the record's content (edited)")
        prev, count = record["hash"], count + 1
    return ChainHead(count, prev)


def holds_head(lines: Iterable[str], head: str) -> bool:
    """Whether a verified chain still holds the record whose hash is ``head`` (a head recorded earlier)."""
    return any(json.loads(line)["hash"] == head for line in lines)


class AuditLog:
    """Appends to one chain file; safe across processes on one host (flock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._offset = 0
        self._head = GENESIS
        self._count = 0
        self._keys: set[str] = set()

    def append(self, kind: str, key: str, when: datetime, data: Any) -> bool:
        """Append unless ``key`` is already in the log; True if a record was written."""
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._catch_up(handle)
                if key in self._keys:
                    return False
                record = chain_record(self._head, self._count, kind, key, when, data)
                line = canonical(record) + b"\n"
                handle.seek(0, os.SEEK_END)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
                self._offset += len(line)
                self._head, self._count = record["hash"], self._count + 1
                self._keys.add(key)
                return True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _catch_up(self, handle: Any) -> None:
        """Read records other writers appended since our last look."""
        handle.seek(self._offset)
        for raw in handle.read().splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # a torn write; verify will name it
            record = json.loads(raw)
            self._offset += len(raw)
            self._head, self._count = record["hash"], self._count + 1
            self._keys.add(record["key"])


def read_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def audit_path(settings: Any) -> Path:
    """The log a worker writes: the configured one, or ``<run dir>/audit/<app id>.jsonl`` (drills get their own).

    ``amur run`` gives each run its own directory, ``<run dir>/<UTC time>/``, and points
    ``<run dir>/latest`` at it; its workers write ``<run dir>/<UTC time>/audit/<app id>.jsonl``.
    """
    return settings.audit_log or settings.run_dir / "audit" / f"{settings.effective_app_id}.jsonl"


def audit_candidates(settings: Any) -> list[Path]:
    """Where a reader looks for the log when given no path: the configured one; else the latest
    ``amur run``'s (``<run dir>/latest/audit/<app id>.jsonl``) and a worker's own (:func:`audit_path`)."""
    if settings.audit_log:
        return [settings.audit_log]
    name = f"{settings.effective_app_id}.jsonl"
    return [settings.run_dir / "latest" / "audit" / name, settings.run_dir / "audit" / name]


def newest_existing(paths: Iterable[Path]) -> Path | None:
    """The most recently written of ``paths`` that exist (None if none does)."""
    present = [path for path in paths if path.is_file()]
    return max(present, key=lambda path: path.stat().st_mtime_ns, default=None)
