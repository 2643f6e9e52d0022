"""Live view: a camera's sampled JPEGs as a low-rate MJPEG stream, while a duty officer watches it.

``GET /api/cameras/{camera_id}/live`` (Bearer token; the camera must lie in the
operator's grid subtree) answers ``multipart/x-mixed-replace``: one
``image/jpeg`` part each time the camera's thumbnail changes, at most
``gateway_live_fps`` a second. When the camera has a fault the stream sends one
``application/json`` part ``{"fault": kind}`` and ends: the page shows the
fault instead of a picture. While a stream is open its camera is claimed at the
sampler's top priority (``CameraPriority`` reason ``live view``, renewed, with
an ``until``; withdrawn at the end), so the frames are fresh within the frame
budget: the sampler water-fills that budget and never samples a camera more
often than ``vision_min_interval_s``. At most ``gateway_live_max_streams``
streams are open at once; more are refused (503) and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stream.incidents.grid import in_subtree

BOUNDARY = "amurframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
LIVE_REASON = "live view"
CLAIM_S = 30.0
"""A live claim expires this long after its last renewal (a gateway that dies leaves no claim behind for long)."""


@dataclass(frozen=True, slots=True)
class LivePolicy:
    fps: float
    max_streams: int


def camera_in_scope(scope: str, cell_code: str | None) -> bool:
    """An operator sees a camera whose cell lies in their grid subtree; a camera of no known cell: city scope only."""
    if cell_code is None:
        return len(scope) == 6 and scope.endswith("00")
    return in_subtree(cell_code, scope)


def frame_part(jpeg: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n").encode() + jpeg + b"\r\n"


def fault_part(fault: str) -> bytes:
    body = json.dumps({"fault": fault}).encode()
    return (f"--{BOUNDARY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() \
        + body + b"\r\n"


class LiveStreams:
    """Counts open streams against the policy; ``refused`` counts the ones turned away."""

    def __init__(self, policy: LivePolicy) -> None:
        self.policy = policy
        self.open: dict[str, int] = {}
        self.refused = 0

    def acquire(self, camera_id: str) -> bool:
        if sum(self.open.values()) >= self.policy.max_streams:
            self.refused += 1
            return False
        self.open[camera_id] = self.open.get(camera_id, 0) + 1
        return True

    def release(self, camera_id: str) -> None:
        left = self.open.get(camera_id, 0) - 1
        if left > 0:
            self.open[camera_id] = left
        else:
            self.open.pop(camera_id, None)

    def watched(self, camera_id: str) -> bool:
        return camera_id in self.open


async def pump(write: Callable[[bytes], Awaitable[None]], read_jpeg: Callable[[], Awaitable[bytes | None]],
               fault_of: Callable[[], str | None], fps: float, *, closed: Callable[[], bool] = lambda: False,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, frames: int | None = None) -> str | None:
    """Write changed frames at most ``fps`` a second until a fault (written, returned), the viewer left
    (``closed``: a stream that sends nothing while the picture stands still would not notice otherwise)
    or ``frames`` were sent."""
    last: bytes | None = None
    sent = 0
    while (frames is None or sent < frames) and not closed():
        fault = fault_of()
        if fault is not None:
            await write(fault_part(fault))
            return fault
        jpeg = await read_jpeg()
        if jpeg:
            digest = hashlib.blake2b(jpeg, digest_size=16).digest()
            if digest != last:
                await write(frame_part(jpeg))
                last, sent = digest, sent + 1
        await sleep(1.0 / fps)
    return None
