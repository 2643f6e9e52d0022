"""What one attempt to get a camera's frame gave: the outcome and the bytes, never an exception."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FetchOutcome(enum.StrEnum):
    """Same values as :class:`stream.schemas.DecodeStatus` (the stream maps by value)."""

    OK = "ok"
    CORRUPT = "corrupt"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    OFFLINE = "offline"
    CIRCUIT_OPEN = "circuit_open"

    @property
    def transient(self) -> bool:
        """Worth one quick retry: the camera answered badly or dropped the connection."""
        return self in (FetchOutcome.OFFLINE, FetchOutcome.HTTP_ERROR)


@dataclass(frozen=True, eq=False)
class Fetched:
    camera_id: str
    outcome: FetchOutcome
    data: bytes | None = None
    """JPEG bytes when the outcome is OK (or the undecodable bytes when CORRUPT)."""
    fetch_ms: float = 0.0
    attempts: int = 1
    detail: str = ""
    """Why it failed (HTTP status, exception class), for logs."""
