"""The checks an uploaded file passes before openpyxl sees it.

An .xlsx file is a zip of XML parts. A phone sends whatever the clerk picked: a CSV or a
screenshot renamed .xlsx, an old .xls, a file cut short by a bad connection, or a crafted zip
that unpacks a few kilobytes into gigabytes. Each is refused here with a reason a clerk can act
on, from the bytes alone: the size first (nothing is parsed), then the zip's directory (the
unpacked size of every part is declared there, and Python's zipfile never unpacks more than
declared — a lying entry fails its CRC check instead), and only then openpyxl.

Merged cells and formulas without a cached value are found here too, by scanning the sheet's
XML: openpyxl's read-only mode, used so that big workbooks stream, reports neither.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree as ET

MB = 1024 * 1024
CHUNK = 1024 * 1024
MAX_PARTS = 10_000  # a workbook has dozens of parts; thousands means something else
MAX_DIRECTORY_PART = 4 * MB  # workbook.xml and its relations list sheet names, nothing more

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_SIGNATURES = (
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0", "xls"),  # OLE2: an old .xls, or an .xlsx with a password
)
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)"')
_UNCACHED_FORMULA = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"[^>]*>\s*'
    rb"<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")


@dataclass(frozen=True, slots=True)
class Limits:
    """How big an upload may be: as sent, and unpacked (the guard against a zip bomb)."""

    max_bytes: int = 20 * MB  # Telegram's bots fetch files up to 20 MB anyway
    max_unpacked_bytes: int = 200 * MB


class Unreadable(Exception):
    """The file is refused as a whole; `key` and `values` make the message."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class SheetMarks:
    """What read-only openpyxl does not tell: merged ranges and formulas without a value."""

    merged: tuple[str, ...] = ()
    uncached_formulas: frozenset[str] = frozenset()


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}"


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise Unreadable("excel.too_big", size=megabytes(size), limit=megabytes(limits.max_bytes))


def read_upload(data: bytes | Path, limits: Limits) -> bytes:
    """The file's bytes, refused by its size before anything is read or parsed."""
    if isinstance(data, Path):
        try:
            check_size(data.stat().st_size, limits)
            return data.read_bytes()
        except OSError as exc:
            raise Unreadable("excel.cannot_open", reason=exc.strerror or str(exc)) from exc
    check_size(len(data), limits)
    return data


def _what_it_is(data: bytes) -> str:
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    head = data[:4096]
    if b"\n" in head and len(data) > len(head):
        head = head[:head.rindex(b"\n") + 1]  # whole lines: no character cut in two
    for encoding in ("utf-8", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text.strip() and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
            return "text"
    return "unknown"


def open_package(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The workbook as a zip, refused unless it is an unbroken one of sane unpacked size."""
    if not data.startswith(b"PK"):
        raise Unreadable("excel.not_xlsx", kind=_what_it_is(data))
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable("excel.damaged") from exc
    if len(parts) > MAX_PARTS:
        raise Unreadable("excel.damaged")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_unpacked_bytes:
        raise Unreadable("excel.zip_bomb", size=megabytes(unpacked),
                         limit=megabytes(limits.max_unpacked_bytes))
    names = {part.filename for part in parts}
    if "xl/workbook.xml" not in names:
        raise Unreadable("excel.not_xlsx", kind="zip")
    return archive


def _small_xml(archive: zipfile.ZipFile, name: str) -> ET.Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_DIRECTORY_PART:
        raise Unreadable("excel.damaged")
    # Parsed with the standard library's expat, which refuses entity-expansion bombs.
    return ET.fromstring(archive.read(name))  # noqa: S314 - size-capped part, expat guards entities


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's title and the zip path of its XML."""
    try:
        workbook = _small_xml(archive, "xl/workbook.xml")
        relations = _small_xml(archive, "xl/_rels/workbook.xml.rels")
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, zlib.error) as exc:
        raise Unreadable("excel.damaged") from exc
    targets = {rel.get("Id"): rel.get("Target", "")
               for rel in relations.iter(f"{_PKG_REL}Relationship")}
    found: dict[str, str] = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        if not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        found[sheet.get("name", "")] = path
    return found


def _complete_rows(stream: Iterator[bytes]) -> Iterator[bytes]:
    """The XML in pieces that end at a row's end (or at an element's end after the rows), so
    a cell or a merged range is never cut in two."""
    carry = b""
    for chunk in stream:
        buffer = carry + chunk
        ends = list(_ROW_END.finditer(buffer))
        cut = ends[-1].end() if ends else buffer.rfind(b"/>") + 2
        if cut <= 1:
            carry = buffer
            continue
        yield buffer[:cut]
        carry = buffer[cut:]
    if carry:
        yield carry


def _chunks(archive: zipfile.ZipFile, path: str) -> Iterator[bytes]:
    with archive.open(path) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def scan_sheet(archive: zipfile.ZipFile, path: str) -> SheetMarks:
    """Merged ranges and formula cells that hold no computed value, in one streaming pass."""
    merged: list[str] = []
    uncached: set[str] = set()
    try:
        for piece in _complete_rows(_chunks(archive, path)):
            if b"mergeCell" in piece:
                merged += [m.decode("ascii") for m in _MERGE.findall(piece)]
            if b"<f" in piece or b":f" in piece:
                uncached.update(m.decode("ascii") for m in _UNCACHED_FORMULA.findall(piece))
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise Unreadable("excel.damaged") from exc
    return SheetMarks(tuple(merged), frozenset(uncached))
