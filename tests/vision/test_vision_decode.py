"""Reduced-resolution decode (vision/analysis/decode.py)."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.analysis.decode import (
    decode_frame,
    jpeg_dimensions,
    read_frame,
    reduction_for,
)
from vision.analysis.errors import UndecodableFrame


def _jpeg(width: int, height: int, *, progressive: bool = False) -> bytes:
    rng = np.random.default_rng(width * 7919 + height)
    image = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 2)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    assert ok
    return data.tobytes()


@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 2000), height=st.integers(1, 1200), progressive=st.booleans())
def test_jpeg_dimensions_read_from_the_header(width: int, height: int, progressive: bool) -> None:
    assert jpeg_dimensions(_jpeg(width, height, progressive=progressive)) == (width, height)


def test_jpeg_dimensions_of_non_jpeg_is_none() -> None:
    ok, png = cv2.imencode(".png", np.zeros((10, 20, 3), np.uint8))
    assert jpeg_dimensions(png.tobytes()) is None
    assert jpeg_dimensions(b"\xff\xd8\xff") is None


@pytest.mark.parametrize(("width", "target", "factor"), [(1280, 320, 4), (640, 320, 2), (1920, 320, 4), (2560, 320, 8), (320, 320, 1), (300, 320, 1)])
def test_reduction_keeps_at_least_the_target_width(width: int, target: int, factor: int) -> None:
    assert reduction_for(width, target) == factor


@pytest.mark.parametrize(("size", "expected"), [((1280, 720), (320, 180)), ((640, 360), (320, 180)), ((200, 100), (200, 100))])
def test_decode_reduces_inside_the_decoder(size: tuple[int, int], expected: tuple[int, int]) -> None:
    frame = decode_frame(_jpeg(*size), target_width=320, ref="cam-1/0001.jpg")
    assert frame.pixels.shape[1::-1] == expected
    assert frame.original_size == size
    assert frame.ref == "cam-1/0001.jpg"


def test_png_is_shrunk_after_decoding() -> None:
    ok, png = cv2.imencode(".png", np.full((720, 1280, 3), 90, np.uint8))
    frame = decode_frame(png.tobytes(), target_width=320)
    assert frame.pixels.shape == (180, 320, 3) and frame.scale == 4


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + bytes(200)])
def test_undecodable_bytes_raise_with_the_reference(data: bytes) -> None:
    with pytest.raises(UndecodableFrame, match="ref='cam-9'"):
        decode_frame(data, ref="cam-9")


def test_missing_file_names_the_path(tmp_path) -> None:
    missing = tmp_path / "nope.jpg"
    with pytest.raises(UndecodableFrame, match="nope.jpg"):
        read_frame(missing)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 599), st.binary(min_size=1, max_size=8))
def test_any_bytes_decode_or_raise_the_documented_error(noise: bytes, cut: int, patch: bytes) -> None:
    """Fuzz: random bytes, and a real JPEG truncated or patched, give a Frame or UndecodableFrame."""
    jpeg = _jpeg(64, 48)
    cut = min(cut, len(jpeg) - 1)
    for data in (noise, jpeg[:cut], jpeg[:cut] + patch + jpeg[cut + len(patch):]):
        try:
            frame = decode_frame(data)
        except UndecodableFrame:
            continue
        assert frame.pixels.ndim == 3 and frame.pixels.shape[2] == 3 and frame.pixels.dtype == np.uint8


def test_truncated_jpeg_is_refused_by_name() -> None:
    jpeg = _jpeg(640, 360)
    with pytest.raises(UndecodableFrame, match="truncated JPEG.*ref='cam-3'"):
        decode_frame(jpeg[: len(jpeg) * 2 // 3], ref="cam-3")


@pytest.mark.parametrize("fmt", [".jpg", ".png"])
def test_a_header_claiming_30000_square_pixels_is_refused_before_decoding(fmt: str) -> None:
    ok, data = cv2.imencode(fmt, np.full((48, 64, 3), 90, np.uint8))
    raw = bytearray(data.tobytes())
    if fmt == ".png":
        struct.pack_into(">II", raw, 16, 30_000, 30_000)
    else:
        sof = next(i for i in range(len(raw) - 1) if raw[i] == 0xFF and raw[i + 1] in (0xC0, 0xC2))
        struct.pack_into(">HH", raw, sof + 5, 30_000, 30_000)
    with pytest.raises(UndecodableFrame, match="claims 30000 x 30000 pixels"):
        decode_frame(bytes(raw), ref="bomb")


def test_a_bad_frame_among_good_ones_fails_alone() -> None:
    good = _jpeg(640, 360)
    batch = [good, b"", good[:1000], good]
    outcomes = []
    for data in batch:
        try:
            outcomes.append(decode_frame(data).pixels.shape)
        except UndecodableFrame as exc:
            outcomes.append(str(exc).split(":")[0])
    assert outcomes == [(180, 320, 3), "empty image data (ref=None)", "truncated JPEG", (180, 320, 3)]
