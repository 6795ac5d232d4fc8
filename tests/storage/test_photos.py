"""The photo store on images made here with Pillow, and the photos repository on each backend."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, Image, ImageChops, ImageStat
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import SiteStatus
from storage import models as m
from storage.photos import PhotoRejected, PhotoStore, ProcessedPhoto
from storage.repositories.attachments import AttachedPhoto
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.world import World

ZONE = ZoneInfo("Asia/Shanghai")
RGB = tuple[int, int, int]


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos", zone=ZONE)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def encoded(image: Image.Image, image_format: str = "JPEG", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def sent(inbox: Path, data: bytes, name: str = "photo.jpg") -> Path:
    path = inbox / name
    path.write_bytes(data)
    return path


def stored_files(store: PhotoStore) -> list[str]:
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def pixel(path: Path, xy: tuple[int, int]) -> RGB:
    with Image.open(path) as image:
        value = image.convert("RGB").getpixel(xy)
    assert isinstance(value, tuple)
    r, g, b = value
    return int(r), int(g), int(b)


def close_to(actual: RGB, expected: RGB, tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).sum2
    return 10 * math.log10(255**2 / (sum(squares) / (3 * a.width * a.height)))


def with_exif(*, orientation: int | None = None, details: dict[int, str] | None = None,
              base: dict[int, str] | None = None,
              gps: dict[int, Any] | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    for tag, value in (base or {}).items():
        exif[tag] = value
    exif.get_ifd(ExifTags.IFD.Exif).update(details or {})
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps or {})
    return exif


def marked(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """Grey with a red block in the top-left corner, to see which way the image was turned."""
    image = Image.new("RGB", size, (128, 128, 128))
    image.paste((220, 20, 20), (0, 0, size[0] // 4, size[1] // 4))
    return image


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def black_png(width: int, height: int, bit_depth: int = 1) -> bytes:
    """A valid grey PNG of this size whose all-black pixels compress to a few kilobytes."""
    row = b"\x00" * (1 + math.ceil(width * bit_depth / 8))
    packer = zlib.compressobj(9)
    rows = [packer.compress(row * 1000) for _ in range(height // 1000)]
    rows.append(packer.compress(row * (height % 1000)))
    rows.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"".join(rows))
            + png_chunk(b"IEND", b""))


# --- the store ---------------------------------------------------------------------------------


def test_a_phone_photo_is_stored_original_normalised_and_thumbnail(
        store: PhotoStore, inbox: Path) -> None:
    blocks = Image.effect_noise((400, 300), 60).convert("RGB")
    original = blocks.resize((4000, 3000), Image.Resampling.NEAREST)
    data = encoded(original, quality=92)
    photo = store.process(sent(inbox, data))

    assert store.path(photo.original_path).read_bytes() == data
    assert (photo.mime_type, photo.size_bytes) == ("image/jpeg", len(data))
    assert photo.original_path == f"originals/{photo.sha256[:2]}/{photo.sha256}.jpg"
    with Image.open(store.path(photo.normalised_path)) as normalised:
        assert (normalised.format, normalised.mode) == ("JPEG", "RGB")
        assert normalised.size == (photo.width, photo.height) == (2560, 1920)
        # One seamless picture: a strip shifted by one pixel would fall to about 22 dB.
        reference = Image.open(io.BytesIO(data)).resize((2560, 1920), Image.Resampling.LANCZOS)
        assert psnr(normalised, reference) > 30
    with Image.open(store.path(photo.thumbnail_path)) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 240))


def test_a_48_megapixel_photo_is_decoded_scaled_down(store: PhotoStore, inbox: Path) -> None:
    photo = store.process(sent(inbox, encoded(marked((8000, 6000)))))
    assert (photo.width, photo.height) == (2560, 1920)
    normalised = store.path(photo.normalised_path)
    assert close_to(pixel(normalised, (20, 20)), (220, 20, 20))
    assert close_to(pixel(normalised, (2540, 1900)), (128, 128, 128))


def test_a_small_photo_is_not_enlarged(store: PhotoStore, inbox: Path) -> None:
    photo = store.process(sent(inbox, encoded(marked((200, 150)))))
    assert (photo.width, photo.height) == (200, 150)
    with Image.open(store.path(photo.thumbnail_path)) as thumbnail:
        assert thumbnail.size == (200, 150)


def test_exif_orientation_is_applied_and_exif_kept_only_in_the_original(
        store: PhotoStore, inbox: Path) -> None:
    gps: dict[int, Any] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (32.0, 41.0, 3.0),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (109.0, 1.0, 12.0)}
    data = encoded(marked(), exif=with_exif(orientation=6, gps=gps))
    photo = store.process(sent(inbox, data))

    assert (photo.width, photo.height) == (300, 400)
    normalised = store.path(photo.normalised_path)
    assert close_to(pixel(normalised, (280, 20)), (220, 20, 20))  # the red corner, turned right
    assert close_to(pixel(normalised, (20, 20)), (128, 128, 128))
    with Image.open(store.path(photo.thumbnail_path)) as thumbnail:
        assert thumbnail.width < thumbnail.height
    for copy in (photo.normalised_path, photo.thumbnail_path):
        with Image.open(store.path(copy)) as image:
            assert dict(image.getexif()) == {}
    with Image.open(store.path(photo.original_path)) as original:
        assert original.getexif()[ExifTags.Base.Orientation] == 6
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)


@pytest.mark.parametrize(("exif", "expected"), [
    (with_exif(details={ExifTags.Base.DateTimeOriginal: "2026:11:20 09:15:00",
                        ExifTags.Base.OffsetTimeOriginal: "+05:30"}),
     datetime(2026, 11, 20, 9, 15, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    (with_exif(details={ExifTags.Base.DateTimeOriginal: "2026:11:20 09:15:00"}),
     datetime(2026, 11, 20, 9, 15, tzinfo=ZONE)),
    (with_exif(base={ExifTags.Base.DateTime: "2026:11:19 17:40:05"}),
     datetime(2026, 11, 19, 17, 40, 5, tzinfo=ZONE)),
    (with_exif(details={ExifTags.Base.DateTimeOriginal: "0000:00:00 00:00:00"}), None),
    (with_exif(), None),
], ids=["own-offset", "store-zone", "datetime-fallback", "placeholder", "none"])
def test_time_taken_comes_from_exif(store: PhotoStore, inbox: Path, exif: Image.Exif,
                                    expected: datetime | None) -> None:
    photo = store.process(sent(inbox, encoded(marked(), exif=exif)))
    assert photo.taken_at == expected
    if expected is not None and photo.taken_at is not None:
        assert photo.taken_at.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(("refs", "sign"), [(("N", "E"), 1), (("S", "W"), -1)])
def test_gps_position_in_decimal_degrees(store: PhotoStore, inbox: Path, refs: tuple[str, str],
                                         sign: int) -> None:
    gps: dict[int, Any] = {ExifTags.GPS.GPSLatitudeRef: refs[0],
           ExifTags.GPS.GPSLatitude: (IFDRational(31), IFDRational(13), IFDRational(305, 10)),
           ExifTags.GPS.GPSLongitudeRef: refs[1],
           ExifTags.GPS.GPSLongitude: (IFDRational(121), IFDRational(28), IFDRational(15))}
    photo = store.process(sent(inbox, encoded(marked(), exif=with_exif(gps=gps))))
    assert photo.lat == pytest.approx(sign * (31 + 13 / 60 + 30.5 / 3600))
    assert photo.lon == pytest.approx(sign * (121 + 28 / 60 + 15 / 3600))


def test_half_a_position_is_no_position(store: PhotoStore, inbox: Path) -> None:
    gps: dict[int, Any] = {ExifTags.GPS.GPSLatitudeRef: "N",
                           ExifTags.GPS.GPSLatitude: (32.0, 41.0, 3.0)}
    photo = store.process(sent(inbox, encoded(marked(), exif=with_exif(gps=gps))))
    assert (photo.lat, photo.lon) == (None, None)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_damaged_exif_costs_only_the_metadata(store: PhotoStore, inbox: Path) -> None:
    jpeg = encoded(marked())
    garbage = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\xee" * 40
    damaged = jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage + jpeg[2:]
    photo = store.process(sent(inbox, damaged))
    assert (photo.width, photo.height, photo.taken_at, photo.lat) == (400, 300, None, None)


def test_transparent_png_becomes_an_rgb_jpeg_on_white(store: PhotoStore, inbox: Path) -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 255, 0))
    image.paste((0, 0, 255, 255), (100, 0, 200, 100))
    photo = store.process(sent(inbox, encoded(image, "PNG"), "screenshot.png"))

    assert photo.mime_type == "image/png"
    assert photo.original_path.endswith(".png")
    normalised = store.path(photo.normalised_path)
    with Image.open(normalised) as copy:
        assert (copy.format, copy.mode) == ("JPEG", "RGB")
    assert close_to(pixel(normalised, (40, 50)), (255, 255, 255))
    assert close_to(pixel(normalised, (160, 50)), (0, 0, 255))


def sixteen_bit_rgb_png() -> bytes:
    rows = b"".join(b"\x00" + struct.pack(">HHH", 65535, 32896, 0) * 20 for _ in range(10))
    header = struct.pack(">IIBBBBB", 20, 10, 16, 2, 0, 0, 0)  # 16 bits per channel, RGB
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def palette_with_transparency() -> bytes:
    image = Image.new("P", (20, 10), 1)
    image.putpalette([0, 0, 0, 30, 160, 60])
    image.paste(0, (0, 0, 10, 10))
    return encoded(image, "PNG", transparency=0)


@pytest.mark.parametrize(("data", "mime_type", "left", "right"), [
    (encoded(Image.new("I;16", (20, 10), 40000), "PNG"), "image/png", (155, 155, 155), None),
    (sixteen_bit_rgb_png(), "image/png", (255, 128, 0), None),
    (palette_with_transparency(), "image/png", (255, 255, 255), (30, 160, 60)),
    (encoded(Image.new("LA", (20, 10), (100, 255)), "PNG"), "image/png", (100, 100, 100), None),
    (encoded(Image.new("1", (20, 10), 1), "PNG"), "image/png", (255, 255, 255), None),
    (encoded(Image.new("CMYK", (20, 10), (0, 255, 255, 0))), "image/jpeg", (255, 0, 0), None),
    (encoded(Image.new("L", (20, 10), 90)), "image/jpeg", (90, 90, 90), None),
    (encoded(Image.new("RGB", (20, 10), (200, 30, 30)), "MPO", save_all=True,
             append_images=[Image.new("RGB", (20, 10))]), "image/jpeg", (200, 30, 30), None),
    (encoded(Image.new("RGB", (20, 10), (200, 30, 30)), "WEBP", lossless=True), "image/webp",
     (200, 30, 30), None),
    (encoded(Image.new("RGB", (20, 10), (200, 30, 30)), "GIF"), "image/gif", (200, 30, 30), None),
    (encoded(Image.new("RGB", (20, 10), (200, 30, 30)), "BMP"), "image/bmp", (200, 30, 30), None),
    (encoded(Image.new("RGB", (20, 10), (200, 30, 30)), "TIFF"), "image/tiff", (200, 30, 30),
     None),
], ids=["grey-16-bit", "rgb-16-bit", "palette-transparent", "grey-alpha", "bilevel", "cmyk",
        "grey-jpeg", "multi-picture-jpeg", "webp", "gif", "bmp", "tiff"])
def test_every_mode_becomes_an_rgb_jpeg(store: PhotoStore, inbox: Path, data: bytes,
                                        mime_type: str, left: RGB, right: RGB | None) -> None:
    photo = store.process(sent(inbox, data, "picture"))
    normalised = store.path(photo.normalised_path)
    with Image.open(normalised) as copy:
        assert (copy.format, copy.mode, copy.size) == ("JPEG", "RGB", (20, 10))
    assert photo.mime_type == mime_type
    assert close_to(pixel(normalised, (2, 5)), left)
    assert close_to(pixel(normalised, (17, 5)), right or left)


def test_the_same_bytes_are_stored_once(store: PhotoStore, inbox: Path) -> None:
    data = encoded(marked())
    first = store.process(sent(inbox, data, "a.jpg"))
    again = store.process(sent(inbox, data, "forwarded.jpg"))

    assert again == first
    assert stored_files(store) == sorted([first.original_path, first.normalised_path,
                                          first.thumbnail_path])


def test_the_same_photo_from_several_threads_is_stored_once(store: PhotoStore,
                                                            inbox: Path) -> None:
    source = sent(inbox, encoded(marked((1600, 1200))))
    with ThreadPoolExecutor(max_workers=4) as pool:
        photos = list(pool.map(store.process, [source] * 4))
    assert len(set(photos)) == 1
    assert len(stored_files(store)) == 3


def test_a_failed_write_leaves_no_file_behind(store: PhotoStore, inbox: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    source = sent(inbox, encoded(marked()))
    with monkeypatch.context() as patched:
        patched.setattr("os.fsync", disk_full)
        with pytest.raises(OSError, match="No space"):
            store.process(source)
    assert stored_files(store) == []
    photo = store.process(source)
    assert len(stored_files(store)) == 3
    assert store.path(photo.original_path).read_bytes() == source.read_bytes()


def half_of(data: bytes) -> bytes:
    return data[:len(data) // 2]


PDF = (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (PDF, "not_image"),
    ("今天完成钢结构吊装，现场照片见附件。\n".encode(), "not_image"),
    (half_of(encoded(Image.effect_noise((800, 600), 50).convert("RGB"))), "truncated"),
    (half_of(encoded(Image.effect_noise((300, 200), 50), "PNG")), "truncated"),
    (encoded(marked())[:40], "truncated"),
    (black_png(20000, 20000), "too_many_pixels"),
], ids=["empty", "pdf", "text", "jpeg-cut-in-half", "png-cut-in-half", "jpeg-header-only",
        "png-bomb"])
def test_what_is_not_a_whole_photo_is_refused(store: PhotoStore, inbox: Path, data: bytes,
                                              reason: str) -> None:
    with pytest.raises(PhotoRejected) as refused:
        store.process(sent(inbox, data))
    assert refused.value.reason == reason
    assert stored_files(store) == []


def test_the_pixel_limit_is_the_store_s_own(tmp_path: Path, inbox: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # as if some library had lifted it
    store = PhotoStore(tmp_path / "photos", zone=ZONE, max_pixels=1_000_000)
    with pytest.raises(PhotoRejected) as refused:
        store.process(sent(inbox, encoded(marked((1200, 1000)))))
    assert refused.value.reason == "too_many_pixels"
    assert store.process(sent(inbox, encoded(marked((1000, 1000))))).width == 1000


def test_a_file_over_the_byte_limit_is_refused(tmp_path: Path, inbox: Path) -> None:
    store = PhotoStore(tmp_path / "photos", zone=ZONE, max_bytes=2000)
    with pytest.raises(PhotoRejected) as refused:
        store.process(sent(inbox, encoded(Image.effect_noise((200, 200), 60))))
    assert refused.value.reason == "too_big_file"
    assert stored_files(store) == []


BOMB_CHILD = """
import sys
from pathlib import Path
from zoneinfo import ZoneInfo
from PIL import Image
from storage.photos import PhotoRejected, PhotoStore
Image.MAX_IMAGE_PIXELS = None  # only the store's own check stands between the bomb and memory
try:
    PhotoStore(Path(sys.argv[2]), zone=ZoneInfo("UTC")).process(Path(sys.argv[1]))
except PhotoRejected as refused:
    print(refused.reason)
print(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_decompression_bomb_is_refused_without_decoding_it(tmp_path: Path,
                                                             inbox: Path) -> None:
    bomb = sent(inbox, black_png(20000, 20000), "bomb.png")  # 400 MB once decoded
    done = subprocess.run([sys.executable, "-c", BOMB_CHILD, str(bomb), str(tmp_path / "s")],
                          capture_output=True, text=True, check=True)
    reason, peak_kib = done.stdout.split()
    assert reason == "too_many_pixels"
    assert int(peak_kib) < 150 * 1024
    assert bomb.stat().st_size < 100_000


def test_a_path_outside_the_store_is_refused(store: PhotoStore) -> None:
    with pytest.raises(ValueError, match="not a path inside"):
        store.path("../../etc/passwd")


# --- the repository ----------------------------------------------------------------------------


def processed(sha256: str, **changes: Any) -> ProcessedPhoto:
    fields: dict[str, Any] = {
        "sha256": sha256, "original_path": f"originals/{sha256[:2]}/{sha256}.jpg",
        "normalised_path": f"normalised/{sha256[:2]}/{sha256}.jpg",
        "thumbnail_path": f"thumbnails/{sha256[:2]}/{sha256}.jpg", "mime_type": "image/jpeg",
        "width": 2560, "height": 1920, "size_bytes": 4_800_000,
        "taken_at": datetime(2026, 11, 20, 9, 15, tzinfo=ZONE), "lat": 32.684, "lon": 109.02}
    return ProcessedPhoto(**fields | changes)


def report(world: World, day: date, photo_ids: list[int]) -> ReportInput:
    return ReportInput(
        project_id=world.projects["HB-001"], report_date=day, reporter_id=world.liaison,
        site_status=SiteStatus.WORKING, progress_pct=Decimal(40), work_done="钢结构吊装",
        workers=80, photos=[AttachedPhoto(i) for i in photo_ids])


async def photo_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(m.Photo)) or 0)


async def test_a_photo_is_recorded_once_by_its_hash(uow: UnitOfWorkFactory, world: World,
                                                    clock: FixedClock,
                                                    engine: AsyncEngine) -> None:
    photo = processed("a" * 64)
    async with uow() as u:
        record, new = await u.photos.add(photo, world.liaison, clock.now())
        await u.commit()
    assert new
    assert (record.sha256, record.normalised_path, record.thumbnail_path) == (
        photo.sha256, photo.normalised_path, photo.thumbnail_path)
    assert record.taken_at == photo.taken_at
    assert (record.lat, record.lon) == (photo.lat, photo.lon)
    async with uow() as u:
        again, new = await u.photos.add(processed("a" * 64, taken_at=None), world.leader,
                                        clock.now())
        await u.commit()
    assert (again, new) == (record, False)
    assert await photo_rows(engine) == 1


async def test_a_photo_already_attached_is_a_reuse(uow: UnitOfWorkFactory, world: World,
                                                   clock: FixedClock) -> None:
    async with uow() as u:
        record, _ = await u.photos.add(processed("b" * 64), world.liaison, clock.now())
        assert await u.photos.attachment_count(record.id) == 0
        await u.reports.save(report(world, date(2026, 11, 21), [record.id]), clock.now())
        await u.commit()
    async with uow() as u:
        again, new = await u.photos.add(processed("b" * 64), world.liaison, clock.now())
        assert (again.id, new) == (record.id, False)
        assert await u.photos.attachment_count(again.id) == 1


async def test_the_same_photo_sent_twice_is_one_record(uow: UnitOfWorkFactory, world: World,
                                                       clock: FixedClock, store: PhotoStore,
                                                       inbox: Path) -> None:
    data = encoded(marked())
    first = await asyncio.to_thread(store.process, sent(inbox, data, "today.jpg"))
    second = await asyncio.to_thread(store.process, sent(inbox, data, "again.jpg"))
    async with uow() as u:
        one, new_one = await u.photos.add(first, world.liaison, clock.now())
        two, new_two = await u.photos.add(second, world.liaison, clock.now())
        await u.commit()
    assert (new_one, new_two) == (True, False)
    assert one == two


async def test_photos_come_back_in_the_order_asked(uow: UnitOfWorkFactory, world: World,
                                                   clock: FixedClock) -> None:
    async with uow() as u:
        a, _ = await u.photos.add(processed("a" * 64), world.liaison, clock.now())
        b, _ = await u.photos.add(processed("b" * 64, lat=None, lon=None), None, clock.now())
        await u.commit()
    async with uow() as u:
        assert await u.photos.get([b.id, a.id]) == [b, a]
        assert await u.photos.get([a.id, b.id + 100]) == [a]
        assert await u.photos.get([]) == []


async def test_the_same_photo_added_at_once_gets_one_row(uow: UnitOfWorkFactory, world: World,
                                                         clock: FixedClock,
                                                         engine: AsyncEngine) -> None:
    photo = processed("c" * 64)

    async def add() -> tuple[int, bool]:
        async with uow() as u:
            record, new = await u.photos.add(photo, world.liaison, clock.now())
            await u.commit()
            return record.id, new

    added = await asyncio.gather(*(add() for _ in range(8)))
    assert len({photo_id for photo_id, _ in added}) == 1
    assert sorted(new for _, new in added) == [False] * 7 + [True]
    assert await photo_rows(engine) == 1
