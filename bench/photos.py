"""B1: time and memory of the photo pipeline on 12-megapixel phone photos, against naive Pillow.

Run: `.venv/bin/python bench/photos.py`.

Input: nine generated 4000×3000 "phone" JPEGs (noise over gradients, quality 90, with EXIF:
camera, time taken with its offset, GPS, orientation 1), so each is a few megabytes and has
no large flat areas a decoder could rush through.

Time, median of interleaved runs in this process: `PhotoStore.process` on a store emptied before
each run (so every file is really written, fsynced included), against the naive way: open, full
decode, LANCZOS resize to 2560 and to 320 from the full image, save both (same JPEG qualities).
The naive run does less work than ours (it neither hashes nor stores the original), so the
ratio is, if anything, unfair to us.
Quality: PSNR of our normalised JPEG against the naive one, next to what the JPEG encode alone
costs (the naive JPEG against the LANCZOS image it was encoded from).
Memory: peak RSS (ru_maxrss) of a fresh process that processes the whole album, per mode.
"""

from __future__ import annotations

import asyncio
import io
import math
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageChops, ImageStat
from PIL.TiffImagePlugin import IFDRational

from storage.photos import PhotoStore

RUNS = 15
ALBUM = 9
SIZE = (4000, 3000)
ZONE = ZoneInfo("Asia/Shanghai")
NORMALISED, THUMBNAIL = (2560, 1920), (320, 240)
MODES = {
    "ours": "PhotoStore.process, one after another",
    "ours-to-thread": "the same through asyncio.to_thread, as the forms do",
    "ours-all-at-once": "all nine at once (asyncio.gather of to_thread)",
    "naive": "naive Pillow, one after another",
    "import-only": "no photo: Python, Pillow and storage.photos imported",
}


def phone_jpeg(seed: int) -> bytes:
    """A 4000×3000 JPEG that costs what a phone photo costs to decode."""
    channels = []
    for band in range(3):
        ramp = Image.linear_gradient("L").rotate(90 * ((seed + band) % 4)).resize(SIZE)
        noise = Image.effect_noise(SIZE, 24 + 8 * band)
        channels.append(Image.blend(ramp, noise, 0.45))
    image = Image.merge("RGB", channels)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Model] = "Redmi Note 13"
    exif[ExifTags.Base.Orientation] = 1
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = f"2026:11:2{seed % 10} 09:{seed:02d}:00"
    details[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (IFDRational(32), IFDRational(41), IFDRational(seed * 10 + 3))
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(109), IFDRational(1), IFDRational(12))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def naive(source: Path, out: Path) -> None:
    with Image.open(source) as image:
        image.load()
        image.resize(NORMALISED, Image.Resampling.LANCZOS).save(
            out / f"{source.stem}.jpg", quality=85)
        image.resize(THUMBNAIL, Image.Resampling.LANCZOS).save(
            out / f"{source.stem}.thumb.jpg", quality=80)


def timed(work: list[tuple[str, Path]], work_dir: Path) -> dict[str, list[float]]:
    """Seconds per photo and mode; the store lives across runs, as in the bot, but is emptied
    before each one so that nothing is found already stored."""
    times: dict[str, list[float]] = {"ours": [], "naive": []}
    store_root = work_dir / "store"
    store = PhotoStore(store_root, zone=ZONE)
    for run in range(RUNS):
        for mode, source in work:
            shutil.rmtree(store_root, ignore_errors=True)
            out = Path(tempfile.mkdtemp(dir=work_dir, prefix=f"{mode}{run}-"))
            start = time.perf_counter()
            if mode == "ours":
                store.process(source)
            else:
                naive(source, out)
            times[mode].append(time.perf_counter() - start)
    return times


def psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).sum2
    return 10 * math.log10(255**2 / (sum(squares) / (3 * a.width * a.height)))


def quality(source: Path, work_dir: Path) -> tuple[float, float]:
    """PSNR of ours against the naive JPEG, and of the naive JPEG against its LANCZOS image."""
    ours_dir, naive_dir = work_dir / "q-ours", work_dir / "q-naive"
    processed = PhotoStore(ours_dir, zone=ZONE).process(source)
    naive_dir.mkdir()
    naive(source, naive_dir)
    with (Image.open(ours_dir / processed.normalised_path) as ours,
          Image.open(naive_dir / f"{source.stem}.jpg") as theirs, Image.open(source) as full):
        exact = full.resize(NORMALISED, Image.Resampling.LANCZOS)
        return psnr(ours, theirs), psnr(theirs, exact)


async def one_after_another(store: PhotoStore, sources: list[Path]) -> None:
    for source in sources:
        await asyncio.to_thread(store.process, source)


async def all_at_once(store: PhotoStore, sources: list[Path]) -> None:
    await asyncio.gather(*(asyncio.to_thread(store.process, source) for source in sources))


def album(mode: str, photos: Path, out: Path) -> None:
    """The child process: process the album one way, then print its peak RSS in KiB."""
    sources = sorted(photos.glob("*.jpg"))
    store = PhotoStore(out, zone=ZONE)
    if mode == "ours":
        for source in sources:
            store.process(source)
    elif mode == "ours-to-thread":
        asyncio.run(one_after_another(store, sources))
    elif mode == "ours-all-at-once":
        asyncio.run(all_at_once(store, sources))
    elif mode == "naive":
        for source in sources:
            naive(source, out)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_mib(mode: str, photos: Path, work_dir: Path) -> float:
    out = tempfile.mkdtemp(dir=work_dir, prefix=f"album-{mode}-")
    done = subprocess.run([sys.executable, __file__, "--album", mode, str(photos), out],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        photos = work_dir / "album"
        # Children report ru_maxrss, which Linux carries over from this process across exec:
        # so the album is made in a child too and memory is measured while this one is small.
        subprocess.run([sys.executable, __file__, "--generate", str(photos)], check=True)
        memory = {mode: peak_rss_mib(mode, photos, work_dir) for mode in MODES}
        sources = sorted(photos.glob("*.jpg"))
        sizes = [p.stat().st_size / 1e6 for p in sources]
        work = [(mode, source) for source in sources[:3] for mode in ("ours", "naive")]
        times = timed(work, work_dir)
        ours_vs_naive, jpeg_alone = quality(sources[0], work_dir)
    t_ours = statistics.median(times["ours"]) * 1000
    t_naive = statistics.median(times["naive"]) * 1000
    print(f"input: {ALBUM} JPEGs {SIZE[0]}x{SIZE[1]}, quality 90, "
          f"{min(sizes):.1f}–{max(sizes):.1f} MB each")
    print(f"{'median of ' + str(RUNS * 3):<44}{'one photo':>12}")
    print(f"{'PhotoStore.process (normalise + thumbnail)':<44}{t_ours:>9.0f} ms")
    print(f"{'naive Pillow (LANCZOS, thumbnail from full)':<44}{t_naive:>9.0f} ms")
    print(f"{'speed-up':<44}{t_naive / t_ours:>10.2f}x")
    print(f"{'PSNR, our normalised vs the naive one':<44}{ours_vs_naive:>9.1f} dB")
    print(f"{'PSNR, the naive one vs its LANCZOS image':<44}{jpeg_alone:>9.1f} dB")
    print(f"peak RSS (ru_maxrss) of a fresh process for the {ALBUM}-photo album:")
    for mode, label in MODES.items():
        print(f"  {label:<56}{memory[mode]:>7.0f} MB")


def generate(photos: Path) -> None:
    photos.mkdir()
    for seed in range(ALBUM):
        (photos / f"IMG_{seed:04d}.jpg").write_bytes(phone_jpeg(seed))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--album":
        album(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--generate":
        generate(Path(sys.argv[2]))
    else:
        main()
