"""Frame decode at reduced resolution: the JPEG decoder skips the work we would throw away.

libjpeg can scale by 1/2, 1/4 or 1/8 inside the IDCT (``cv2.IMREAD_REDUCED_COLOR_*``),
which costs a fraction of a full decode. The reduction is picked from the JPEG
header so every camera, whatever its resolution, reaches analysis at about the
same size (``target_width``) and analysis cost does not grow with the camera.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.analysis.errors import UndecodableFrame

_REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
#: Start-of-frame markers that carry the image size (baseline, extended, progressive, lossless, ...).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
MAX_PIXELS = 64_000_000
"""Largest image a header may claim (an 8K camera sends 33 Mpx): more is refused before decoding,
so a decompression bomb (a small file claiming 30,000 x 30,000 pixels) costs nothing."""
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EOI_TAIL = 64
"""A JPEG must end with its end-of-image marker within this many bytes (some encoders pad)."""


@dataclass(frozen=True, eq=False)
class Frame:
    """A decoded frame: BGR pixels at reduced size and how they map to the original."""

    pixels: np.ndarray
    """uint8 BGR, shape (height, width, 3), at ``1/scale`` of the original size."""
    scale: int
    """Original size = pixel size x scale."""
    ref: str | None = None
    """Reference to the stored original (the evidence frame), e.g. a FrameSample.image_ref."""

    @property
    def original_size(self) -> tuple[int, int]:
        """(width, height) of the frame the camera sent."""
        height, width = self.pixels.shape[:2]
        return width * self.scale, height * self.scale


def jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, or None if not a readable JPEG."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return (width, height) if width and height else None
        pos += 2 + length
    return None


def png_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height


def check_header(data: bytes, ref: str | None = None) -> tuple[int, int] | None:
    """The JPEG's (width, height), after refusing what cannot be a whole, sane image.

    Raises :class:`UndecodableFrame` for a header claiming more than :data:`MAX_PIXELS` (JPEG or PNG)
    and for a JPEG cut short (no end-of-image marker: a transfer that stopped mid-frame, which
    libjpeg would otherwise decode with its bottom rows grey).
    """
    size = jpeg_dimensions(data)
    claimed = size or png_dimensions(data)
    if claimed is not None and claimed[0] * claimed[1] > MAX_PIXELS:
        raise UndecodableFrame(f"image header claims {claimed[0]} x {claimed[1]} pixels, more than the "
                               f"{MAX_PIXELS:,} allowed ({len(data)} bytes, ref={ref!r})")
    if size is not None and b"\xff\xd9" not in data[-_EOI_TAIL:]:
        raise UndecodableFrame(f"truncated JPEG: no end-of-image marker ({len(data)} bytes, ref={ref!r})")
    return size


def reduction_for(width: int, target_width: int) -> int:
    """The largest libjpeg reduction (1, 2, 4, 8) that keeps the width at or above ``target_width``."""
    if width <= 0 or target_width <= 0:
        raise UndecodableFrame(f"width must be positive, got width={width} target_width={target_width}")
    for factor in (8, 4, 2):
        if width // factor >= target_width:
            return factor
    return 1


def decode_frame(data: bytes, *, target_width: int = 320, ref: str | None = None) -> Frame:
    """Decode JPEG (or any OpenCV-readable) bytes, reduced inside the decoder where possible."""
    if not data:
        raise UndecodableFrame(f"empty image data (ref={ref!r})")
    size = check_header(data, ref)
    factor = reduction_for(size[0], target_width) if size else 1
    buffer = np.frombuffer(data, dtype=np.uint8)
    pixels = cv2.imdecode(buffer, _REDUCED_FLAGS[factor])
    if pixels is None or pixels.size == 0:
        raise UndecodableFrame(f"image data does not decode ({len(data)} bytes, ref={ref!r})")
    if size is None and pixels.shape[1] >= 2 * target_width:
        # Not a JPEG (PNG, BMP ...): the decoder cannot reduce, so shrink after decoding.
        factor = reduction_for(pixels.shape[1], target_width)
        new_size = (pixels.shape[1] // factor, pixels.shape[0] // factor)
        pixels = cv2.resize(pixels, new_size, interpolation=cv2.INTER_AREA)
    return Frame(pixels=pixels, scale=factor, ref=ref)


def read_frame(path: Path | str, *, target_width: int = 320) -> Frame:
    """Read and decode an image file; the path becomes the frame's evidence reference."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UndecodableFrame(f"cannot read image file {str(path)!r}: {exc.strerror or exc}") from exc
    return decode_frame(data, target_width=target_width, ref=str(path))
