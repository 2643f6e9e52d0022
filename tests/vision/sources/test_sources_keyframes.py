"""Keyframe sampling from a REAL RTSP stream (Debian's gst-rtsp-server on loopback) and a recorded file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from stream.embedded.services import free_port
from tests.conftest import TESTS
from vision.sources.errors import StreamUnavailable
from vision.sources.keyframes import (
    KeyframeClient,
    RecordedVideo,
    sample_rtsp_keyframes,
)
from vision.sources.outcome import FetchOutcome

pytestmark = pytest.mark.integration

SERVER = TESTS / "helpers" / "rtsp_server_gst.py"
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")
GOP = 25
"""The test stream's keyframe interval (x264enc key-int-max=25)."""


def _gst_rtsp_available() -> bool:
    if SYSTEM_PYTHON is None:
        return False
    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); gi.require_version('Gst', '1.0');"
             "from gi.repository import Gst; Gst.init(None); assert Gst.ElementFactory.find('x264enc')")
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def rtsp_url() -> str:
    if not _gst_rtsp_available():
        pytest.skip("gst-rtsp-server with x264enc is not installed (run `make rtsp-deps`)")
    port = free_port()
    server = subprocess.Popen([SYSTEM_PYTHON, str(SERVER), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield f"rtsp://127.0.0.1:{port}/cam"
    finally:
        server.terminate()
        server.wait(5)


def test_only_keyframes_are_decoded_from_a_live_rtsp_stream(rtsp_url: str) -> None:
    run = sample_rtsp_keyframes(rtsp_url, count=3, timeout_s=20)
    assert run.frames_decoded == 3
    assert run.packets_read >= 2 * GOP  # three keyframes are two GOPs apart at least
    assert all(frame.shape == (360, 640, 3) for frame in run.frames)
    assert all(frame.std() > 10 for frame in run.frames)  # a real picture (moving ball on a pattern)


async def test_keyframe_client_returns_a_jpeg_or_an_offline_outcome(rtsp_url: str) -> None:
    client = KeyframeClient(threads=2, timeout_s=10)
    try:
        ok = await client.fetch_rtsp("cam", rtsp_url)
        dead = await client.fetch_rtsp("dead", f"rtsp://127.0.0.1:{free_port()}/cam")
    finally:
        client.close()
    assert ok.outcome is FetchOutcome.OK
    assert cv2.imdecode(np.frombuffer(ok.data, np.uint8), cv2.IMREAD_COLOR).shape == (360, 640, 3)
    assert dead.outcome is FetchOutcome.OFFLINE


def _write_video(path: Path, seconds: int, fps: int = 10, gop: int = 10) -> None:
    """An MPEG-4 file whose frame brightness encodes its second (for checking seeks)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = gop
        for i in range(seconds * fps):
            pixels = np.full((240, 320, 3), 20 + 20 * (i // fps), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_recorded_video_gives_the_keyframe_at_an_offset_and_loops(tmp_path: Path) -> None:
    path = tmp_path / "drill.mp4"
    _write_video(path, seconds=5)
    video = RecordedVideo(path)
    try:
        assert video.duration_s == pytest.approx(5.0, abs=0.2)
        for offset, second in ((0.0, 0), (3.5, 3), (7.2, 2)):  # 7.2 s loops to 2.2 s
            pixels = cv2.imdecode(np.frombuffer(video.keyframe_at(offset), np.uint8), cv2.IMREAD_COLOR)
            assert pixels.mean() == pytest.approx(20 + 20 * second, abs=4)
    finally:
        video.close()
    with pytest.raises(StreamUnavailable, match="drill-missing"):
        RecordedVideo(tmp_path / "drill-missing.mp4")
