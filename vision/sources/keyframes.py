"""Keyframe sampling from RTSP streams and recorded video files with PyAV.

Only keyframes are ever decoded: the decoder is told to skip every non-key
frame (``skip_frame = "NONKEY"``) and packets that are not keyframes are not
even handed to it, so sampling a stream costs one intra-frame decode, not a
decode of every frame. Sampled frames are re-encoded as JPEG so the rest of
the pipeline (thumbnails, evidence, analysis) sees one format whatever the
protocol. The calls here block; :class:`KeyframeClient` runs them in a small
thread pool with a deadline.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from vision.sources.errors import StreamUnavailable
from vision.sources.outcome import Fetched, FetchOutcome

JPEG_QUALITY = 85


def _to_jpeg(pixels: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover
        raise StreamUnavailable(f"frame: could not encode shape {pixels.shape} as JPEG")
    return data.tobytes()


@dataclass(frozen=True, eq=False)
class KeyframeRun:
    """Keyframes taken from a stream, and what it cost: packets read vs frames decoded."""

    frames: list[np.ndarray]
    packets_read: int
    frames_decoded: int


def read_keyframes(container: av.container.InputContainer, count: int, deadline: float, where: str) -> KeyframeRun:
    """Demux video packets; decode only keyframe packets until ``count`` frames (BGR) are out."""
    if not container.streams.video:
        raise StreamUnavailable(f"{where}: no video stream")
    stream = container.streams.video[0]
    stream.codec_context.skip_frame = "NONKEY"
    frames: list[np.ndarray] = []
    packets = 0
    for packet in container.demux(stream):
        if time.monotonic() > deadline:
            raise StreamUnavailable(f"{where}: {len(frames)} of {count} keyframes before the deadline")
        packets += 1
        if packet.size == 0 or not packet.is_keyframe:
            continue
        frames.extend(frame.to_ndarray(format="bgr24") for frame in packet.decode())
        if len(frames) >= count:
            return KeyframeRun(frames[:count], packets, len(frames))
    raise StreamUnavailable(f"{where}: stream ended after {len(frames)} of {count} keyframes")


def _first_keyframe(container: av.container.InputContainer, deadline: float, where: str) -> np.ndarray:
    return read_keyframes(container, 1, deadline, where).frames[0]


def sample_rtsp_keyframes(url: str, count: int, timeout_s: float) -> KeyframeRun:
    """``count`` consecutive keyframes of an RTSP stream (one session). Blocking."""
    container = _open_rtsp(url, timeout_s)
    try:
        return read_keyframes(container, count, time.monotonic() + timeout_s, url)
    finally:
        container.close()


def _open_rtsp(url: str, timeout_s: float) -> av.container.InputContainer:
    try:
        return av.open(url, options={"rtsp_transport": "tcp"}, timeout=(timeout_s, timeout_s))
    except (av.error.FFmpegError, OSError) as exc:
        raise StreamUnavailable(f"url {url!r}: cannot open RTSP stream ({exc})") from None


def grab_rtsp_keyframe(url: str, timeout_s: float) -> bytes:
    """Connect, take the next keyframe, disconnect; JPEG bytes. Blocking."""
    deadline = time.monotonic() + timeout_s
    container = _open_rtsp(url, timeout_s)
    try:
        return _to_jpeg(_first_keyframe(container, deadline, url))
    except av.error.FFmpegError as exc:
        raise StreamUnavailable(f"url {url!r}: {exc}") from None
    finally:
        container.close()


class RecordedVideo:
    """A recorded video for drills: the keyframe at (or just before) an offset, looping over the recording."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as exc:
            raise StreamUnavailable(f"path {str(path)!r}: cannot open video ({exc})") from None
        if not self._container.streams.video:
            raise StreamUnavailable(f"path {str(path)!r}: no video stream")
        self._stream = self._container.streams.video[0]
        duration = self._stream.duration
        self.duration_s = float(duration * self._stream.time_base) if duration else \
            float(self._container.duration or 0) / av.time_base
        self._lock = threading.Lock()

    def keyframe_at(self, offset_s: float) -> bytes:
        """JPEG of the keyframe at or before ``offset_s`` (modulo the duration). Blocking."""
        position = offset_s % self.duration_s if self.duration_s > 0 else 0.0
        with self._lock:
            target = int(position / float(self._stream.time_base))
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
            return _to_jpeg(_first_keyframe(self._container, time.monotonic() + 30.0, str(self.path)))

    def close(self) -> None:
        self._container.close()


class KeyframeClient:
    """Async face of the blocking keyframe grabs: bounded threads, a deadline each, outcomes not exceptions."""

    def __init__(self, *, threads: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="keyframes")
        self._videos: dict[Path, RecordedVideo] = {}

    async def _run(self, camera_id: str, grab: Callable[[], bytes]) -> Fetched:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            data = await asyncio.wait_for(loop.run_in_executor(self.pool, grab), self.timeout_s + 1.0)
        except asyncio.TimeoutError:
            outcome, data, detail = FetchOutcome.TIMEOUT, None, "timeout"
        except StreamUnavailable as exc:
            outcome, data, detail = FetchOutcome.OFFLINE, None, str(exc)
        else:
            outcome, detail = FetchOutcome.OK, ""
        return Fetched(camera_id, outcome, data, (time.perf_counter() - started) * 1000.0, 1, detail)

    async def fetch_rtsp(self, camera_id: str, url: str) -> Fetched:
        return await self._run(camera_id, lambda: grab_rtsp_keyframe(url, self.timeout_s))

    async def fetch_recorded(self, camera_id: str, path: Path, offset_s: float) -> Fetched:
        def grab() -> bytes:
            video = self._videos.get(path)
            if video is None:
                video = self._videos[path] = RecordedVideo(path)
            return video.keyframe_at(offset_s)

        return await self._run(camera_id, grab)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for video in self._videos.values():
            video.close()
        self._videos.clear()
