"""The photo store: each photo is checked, kept once, and turned into two small upright JPEGs.

Why it is built this way:
- A photo is only what Pillow identifies among the formats phones and chat apps send. Its pixel
  count is checked from the header before any pixel is decoded, so a decompression bomb costs a
  few kilobytes whatever `PIL.Image.MAX_IMAGE_PIXELS` is set to elsewhere in the process.
- Originals are content-addressed by SHA-256: the same bytes are stored once, and a photo sent
  again (an old picture passed off as today's work) is recognised by its hash.
- The normalised copy is the one people look at: upright (EXIF orientation applied), at most
  `long_edge` pixels, an RGB JPEG without EXIF (which can carry the phone owner's name and
  exact position). The original keeps everything for an inspector.
- Speed: libjpeg decodes a big JPEG already scaled by 1/2, 1/4 or 1/8 (draft mode); the resize
  to the long edge runs as horizontal strips on all cores, which gives the pixels of one resize;
  the thumbnail is made from the normalised image in memory, while the original is hashed and
  written.
- Memory: all pixel work runs on the store's own few long-lived threads, one photo at a time.
  A 12-megapixel photo needs about 70 MB at its peak; done on whichever thread calls, each
  caller's malloc arena would keep its own share of that after the photo is done.
- A stored file is whole or absent: it is written to a temporary file, fsynced, then renamed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import re
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageFile

logger = logging.getLogger(__name__)

RejectReason = Literal["empty", "not_image", "truncated", "too_many_pixels", "too_big_file"]

# The formats Pillow is asked to recognise: what phones, cameras and chat apps send.
_OPENED: Final = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Pillow format → (MIME type, extension of the stored original). MPO is what Pillow's JPEG
# reader calls the files of phones that add a depth map or a preview: a JPEG to everyone else.
_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
    "BMP": ("image/bmp", ".bmp"),
    "TIFF": ("image/tiff", ".tif"),
}
# Files starting like this are images; if Pillow cannot read their header they are damaged.
_SIGNATURES: Final = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00",
                      b"MM\x00*")
# What Pillow raises on data it cannot parse or decode (a plugin's own errors included).
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError)

# Shrinking, Pillow's bilinear is a true antialiasing (triangle) filter, at half LANCZOS's cost.
# On the noisy 12-MP photos of bench/photos.py our normalised JPEG is 37 dB PSNR from a LANCZOS
# one: closer than that JPEG is to the LANCZOS image it was encoded from (34 dB).
_RESAMPLE: Final = Image.Resampling.BILINEAR
_NORMALISED_QUALITY: Final = 85
_THUMBNAIL_QUALITY: Final = 80
_STRIP_MIN_PIXELS: Final = 1_000_000
_CORES: Final = max(1, min(4, os.cpu_count() or 1))  # strips beyond four gain little
_WHITE: Final = (255, 255, 255)
_ORIENTATION: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_OFFSET: Final = re.compile(r"([+-])(\d{2}):(\d{2})")


class PhotoRejected(Exception):
    """A photo that was not stored, and why (`reason`, a key for the message catalogues).

    - empty: the file has no bytes;
    - not_image: not a picture in a supported format (a PDF, a text file, a HEIC…);
    - truncated: it starts like a picture but its data is cut short or damaged;
    - too_many_pixels: its header declares more pixels than the store decodes (a
      decompression bomb, or a panorama far beyond any site photo);
    - too_big_file: more bytes than the store accepts.
    """

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: RejectReason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A stored photo; paths are relative to the store's root (`PhotoStore.path` resolves them)."""

    sha256: str  # of the original bytes
    original_path: str  # originals/ab/abcdef….jpg, the bytes as received
    normalised_path: str  # normalised/ab/abcdef….jpg
    thumbnail_path: str  # thumbnails/ab/abcdef….jpg
    mime_type: str  # of the original
    width: int  # of the normalised image, upright
    height: int
    size_bytes: int  # of the original
    taken_at: datetime | None  # aware: EXIF time taken, in its own offset or the store's zone
    lat: float | None  # EXIF GPS in decimal degrees, south and west negative
    lon: float | None


@dataclass(frozen=True, slots=True)
class _Exif:
    orientation: int = 1
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class _Decoded:
    strips: list[Image.Image]  # top to bottom, long edge within the store's limit
    exif: _Exif
    icc_profile: bytes | None


class PhotoStore:
    """Files under `root`: originals/, normalised/ and thumbnails/, sharded by hash prefix.

    Synchronous and thread-safe; callers on the event loop use `asyncio.to_thread`. Photos are
    processed one at a time per store, on its own threads (see the module's docstring).
    """

    def __init__(self, root: Path, *, zone: ZoneInfo, max_pixels: int = 100_000_000,
                 max_bytes: int = 40 * 1024 * 1024, long_edge: int = 2560,
                 thumb_edge: int = 320) -> None:
        self.root = root
        self.zone = zone
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
        self.long_edge = long_edge
        self.thumb_edge = thumb_edge
        self._pipeline = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photo")
        self._helpers = ThreadPoolExecutor(max_workers=max(2, _CORES),
                                           thread_name_prefix="photo-helper")

    def path(self, relative: str) -> Path:
        """The absolute path of a stored file; a path leading out of the store is refused."""
        root = self.root.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or target == root:
            raise ValueError(f"not a path inside the photo store: {relative!r}")
        return target

    def process(self, source: Path) -> ProcessedPhoto:
        """Check, store and normalise the photo in `source`; raises `PhotoRejected`."""
        try:
            return self._pipeline.submit(self._process, source).result()
        except PhotoRejected as refused:
            logger.info("photo %s refused: %s (%s)", source.name, refused.reason, refused.detail)
            raise

    def _process(self, source: Path) -> ProcessedPhoto:
        data = self._read(source)
        with self._open(data) as image:
            mime_type, extension = _FORMATS[str(image.format)]
            # Hashed and written aside while this thread decodes. It is put in place last, so
            # that a stored original always has its copies.
            staged = self._helpers.submit(self._stage_original, data, extension)
            try:
                decoded = self._decode(image)
            except BaseException:
                _discard(staged)
                raise
        sha256, original_path, temporary = staged.result()
        shard = f"{sha256[:2]}/{sha256}"
        normalised_path, thumbnail_path = f"normalised/{shard}.jpg", f"thumbnails/{shard}.jpg"
        try:
            width, height = self._store_copies(decoded, normalised_path, thumbnail_path)
        except BaseException:
            _forget(temporary)
            raise
        new = temporary is not None and self._publish(temporary, original_path)
        logger.info("photo %s %s: %s, %s bytes, normalised to %sx%s", sha256[:12],
                    "stored" if new else "already stored", mime_type, len(data), width, height)
        return ProcessedPhoto(
            sha256=sha256, original_path=original_path, normalised_path=normalised_path,
            thumbnail_path=thumbnail_path, mime_type=mime_type, width=width, height=height,
            size_bytes=len(data), taken_at=decoded.exif.taken_at, lat=decoded.exif.lat,
            lon=decoded.exif.lon)

    def _read(self, source: Path) -> bytes:
        size = source.stat().st_size
        if size > self.max_bytes:
            raise PhotoRejected("too_big_file", f"{size} bytes, at most {self.max_bytes}")
        with source.open("rb") as file:
            data = file.read(self.max_bytes + 1)  # the file may have grown since stat
        if not data:
            raise PhotoRejected("empty", "no bytes")
        if len(data) > self.max_bytes:
            raise PhotoRejected("too_big_file", f"more than {self.max_bytes} bytes")
        return data

    def _open(self, data: bytes) -> ImageFile.ImageFile:
        """The image with its header read and its pixel count checked, nothing decoded yet."""
        try:
            image = Image.open(io.BytesIO(data), formats=_OPENED)
        except Image.DecompressionBombError as bomb:
            raise PhotoRejected("too_many_pixels", str(bomb)) from None
        except _DECODE_ERRORS as error:
            reason: RejectReason = "truncated" if _looks_like_image(data) else "not_image"
            raise PhotoRejected(reason, str(error)) from None
        width, height = image.size
        if width * height > self.max_pixels:
            image.close()
            raise PhotoRejected("too_many_pixels",
                                f"{width}x{height}, at most {self.max_pixels} pixels")
        return image

    def _decode(self, image: ImageFile.ImageFile) -> _Decoded:
        size = _fit(image.size, self.long_edge)
        image.draft(image.mode, size)  # JPEG: libjpeg scales while decoding, if it can
        try:
            image.load()
        except _DECODE_ERRORS as error:
            raise PhotoRejected("truncated", str(error)) from None
        strips = _resample(_resizable(image), size, self._helpers)
        return _Decoded(strips, _read_exif(image, self.zone),
                        _rgb_profile(image.info.get("icc_profile")))

    def _stage_original(self, data: bytes, extension: str) -> tuple[str, str, Path | None]:
        """The SHA-256, the path of the original, and its written-aside copy unless stored."""
        sha256 = hashlib.sha256(data).hexdigest()
        relative = f"originals/{sha256[:2]}/{sha256}{extension}"
        if self.path(relative).exists():
            return sha256, relative, None
        return sha256, relative, self._write_temporary(data)

    def _store_copies(self, decoded: _Decoded, normalised_path: str,
                      thumbnail_path: str) -> tuple[int, int]:
        """The normalised copy and its thumbnail, encoded side by side; the normalised size.

        Called once the decoded image is closed, so its memory is free before the strips join.
        """
        normalised = _upright(_stack(decoded.strips), decoded.exif.orientation)
        thumbnail = self._helpers.submit(self._store_thumbnail, normalised, decoded.icc_profile,
                                         thumbnail_path)
        self._write_once(normalised_path,
                         _jpeg(normalised, _NORMALISED_QUALITY, decoded.icc_profile))
        thumbnail.result()
        return normalised.size

    def _store_thumbnail(self, normalised: Image.Image, icc_profile: bytes | None,
                         relative: str) -> None:
        small = normalised.resize(_fit(normalised.size, self.thumb_edge), _RESAMPLE,
                                  reducing_gap=2.0)
        self._write_once(relative, _jpeg(small, _THUMBNAIL_QUALITY, icc_profile))

    def _write_once(self, relative: str, data: bytes) -> bool:
        """Store a file unless it is there already."""
        if self.path(relative).exists():
            return False
        return self._publish(self._write_temporary(data), relative)

    def _write_temporary(self, data: bytes) -> Path:
        """`data` in a new, fsynced file under .tmp/, on the same file system as the store."""
        directory = self.root / ".tmp"
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fchmod(file.fileno(), 0o644)
                os.fsync(file.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    def _publish(self, temporary: Path, relative: str) -> bool:
        """Rename a written file into place: it appears whole or not at all, even on a crash."""
        target = self.path(relative)
        if target.exists():
            temporary.unlink()
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return True


def _discard(staged: Future[tuple[str, str, Path | None]]) -> None:
    """Remove the written-aside original of a photo that was refused after all."""
    try:
        temporary = staged.result()[2]
    except OSError:
        return  # writing it failed too; the refusal is what the caller needs to hear
    _forget(temporary)


def _forget(temporary: Path | None) -> None:
    if temporary is not None:
        temporary.unlink(missing_ok=True)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """RGB, turned as the EXIF orientation says, with no metadata left to copy along."""
    upright = _flatten(image)
    if transpose := _ORIENTATION.get(orientation):
        upright = upright.transpose(transpose)
    upright.info.clear()
    return upright


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable: the directory entry is flushed, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """`size` scaled down (never up) so that its long edge is at most `edge`."""
    width, height = size
    longest = max(width, height)
    if longest <= edge:
        return size
    return (max(1, round(width * edge / longest)), max(1, round(height * edge / longest)))


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode that resamples well: RGB, L, or RGBA/LA when it has transparency."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        return _eight_bit(image)
    if mode in ("RGB", "L", "RGBA", "LA") and "transparency" not in image.info:
        return image
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _eight_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit greys scaled into 0–255 (Pillow's own conversion clips them to white)."""
    wide = image.convert("I")
    extrema = wide.getextrema()
    highest = extrema[1] if isinstance(extrema[1], (int, float)) else 255
    if highest > 255:
        wide = wide.point(lambda value: value * (1 / 257))
    return wide.convert("L")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with anything transparent laid on white, as a paper print would show it."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _resample(image: Image.Image, size: tuple[int, int],
              helpers: ThreadPoolExecutor) -> list[Image.Image]:
    """`image` resized to `size`, as horizontal strips resampled on separate cores.

    Pillow releases the GIL while resampling, and a strip given as `box` is resampled with the
    source pixels around it, so the strips join without a seam into the pixels of one resize.
    The strips are new images: the source can be closed before they are joined.
    """
    if image.size == size:
        return [image.copy()]
    count = _CORES if image.mode in ("RGB", "L") and size[0] * size[1] >= _STRIP_MIN_PIXELS else 1
    width, height = size
    scale = image.height / height
    cuts = [height * i // count for i in range(count + 1)]

    def strip(index: int) -> Image.Image:
        top, bottom = cuts[index], cuts[index + 1]
        return image.resize((width, bottom - top), _RESAMPLE,
                            box=(0, top * scale, image.width, bottom * scale), reducing_gap=3.0)

    others = [helpers.submit(strip, i) for i in range(1, count)]
    return [strip(0), *(future.result() for future in others)]


def _stack(strips: list[Image.Image]) -> Image.Image:
    """One image of the strips, each dropped once it is copied."""
    if len(strips) == 1:
        return strips.pop()
    width, height = strips[0].width, sum(strip.height for strip in strips)
    joined = Image.new(strips[0].mode, (width, height), None)  # every pixel is pasted over
    top = 0
    while strips:
        strip = strips.pop(0)
        joined.paste(strip, (0, top))
        top += strip.height
    return joined


def _jpeg(image: Image.Image, quality: int, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, icc_profile=icc_profile)
    return buffer.getvalue()


def _rgb_profile(profile: object) -> bytes | None:
    """An ICC profile worth keeping on an RGB copy (a CMYK or grey one would mislead)."""
    if isinstance(profile, bytes) and profile[16:20] == b"RGB ":
        return profile
    return None


def _read_exif(image: Image.Image, zone: ZoneInfo) -> _Exif:
    """Orientation, time taken and position; a damaged EXIF block only costs the metadata."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        orientation = exif.get(ExifTags.Base.Orientation)
        taken_at = (
            _timestamp(details.get(ExifTags.Base.DateTimeOriginal),
                       details.get(ExifTags.Base.OffsetTimeOriginal), zone)
            or _timestamp(exif.get(ExifTags.Base.DateTime),
                          details.get(ExifTags.Base.OffsetTime), zone))
        lat = _coordinate(gps.get(ExifTags.GPS.GPSLatitude),
                          gps.get(ExifTags.GPS.GPSLatitudeRef), limit=90, negative="S")
        lon = _coordinate(gps.get(ExifTags.GPS.GPSLongitude),
                          gps.get(ExifTags.GPS.GPSLongitudeRef), limit=180, negative="W")
    except Exception as error:  # EXIF is written by any app on any phone; the photo matters more
        logger.warning("photo EXIF unreadable, kept without it: %s", error)
        return _Exif()
    if lat is None or lon is None:
        lat = lon = None
    return _Exif(orientation if orientation in _ORIENTATION else 1, taken_at, lat, lon)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ") or None


def _timestamp(stamp: object, offset: object, zone: ZoneInfo) -> datetime | None:
    """An EXIF "2026:11:20 09:15:00", in its own offset ("+08:00") when given, else `zone`."""
    text = _text(stamp)
    if text is None:
        return None
    where: tzinfo = _utc_offset(offset) or zone
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=where)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None


def _utc_offset(value: object) -> timezone | None:
    match = _OFFSET.fullmatch(_text(value) or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _coordinate(value: object, ref: object, *, limit: float, negative: str) -> float | None:
    """Degrees, minutes, seconds (EXIF rationals) as signed decimal degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    try:
        degrees = sum(float(part) / 60.0**i for i, part in enumerate(value))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(degrees) or abs(degrees) > limit:
        return None
    return -abs(degrees) if (_text(ref) or "").upper().startswith(negative) else degrees
