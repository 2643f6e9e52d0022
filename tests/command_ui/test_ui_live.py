"""Live view decisions: scope of a camera, the stream budget, and what the pump writes (virtual sleep)."""

from __future__ import annotations

from command_ui.live import LivePolicy, LiveStreams, camera_in_scope, pump


def test_scope_of_a_camera_is_its_cell_subtree() -> None:
    assert camera_in_scope("231102", "231102001001001") and camera_in_scope("231100", "231102001001001")
    assert not camera_in_scope("231182", "231102001001001")
    assert camera_in_scope("231100", None) and not camera_in_scope("231102", None)


def test_open_streams_are_bounded_and_refusals_counted() -> None:
    streams = LiveStreams(LivePolicy(fps=2.0, max_streams=2))
    assert streams.acquire("a") and streams.acquire("a") and not streams.acquire("b")
    assert streams.refused == 1
    streams.release("a")
    assert streams.watched("a") and streams.acquire("b")
    streams.release("a")
    assert not streams.watched("a")


async def test_pump_sends_changed_frames_at_its_rate_then_the_fault() -> None:
    frames = iter([b"\xff\xd8one", b"\xff\xd8one", b"\xff\xd8two", None, b"\xff\xd8two", b"\xff\xd8three"])
    written: list[bytes] = []
    slept: list[float] = []
    fault: list[str | None] = [None] * 6 + ["frozen"]

    async def read() -> bytes | None:
        return next(frames)

    async def write(part: bytes) -> None:
        written.append(part)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert await pump(write, read, lambda: fault.pop(0), 4.0, sleep=sleep) == "frozen"
    assert [p.rsplit(b"\r\n\r\n", 1)[1] for p in written] == [
        b"\xff\xd8one\r\n", b"\xff\xd8two\r\n", b"\xff\xd8three\r\n", b'{"fault": "frozen"}\r\n']
    assert slept == [0.25] * 6  # one read per 1/fps, never faster


async def test_pump_stops_when_the_viewer_left() -> None:
    async def read() -> bytes | None:
        raise AssertionError("nothing is read for a viewer who left")

    async def write(part: bytes) -> None:
        raise AssertionError("nothing is written")

    assert await pump(write, read, lambda: None, 2.0, closed=lambda: True) is None
