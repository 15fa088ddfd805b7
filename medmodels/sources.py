"""Turning what a user hands us (paths, bytes, zips, uploads) into named bytes.

Everything stays in memory: uploads are never written to disk here. Limits are
checked as the upload is expanded, against one running total over all its files
and zips (declared sizes, before inflating: zipfile refuses a member larger than declared), so a zip
bomb, several of them, or an absurd upload is refused with a message instead of
exhausting the server's memory.
"""

from __future__ import annotations

import io
import lzma
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Union

from .errors import InputError

#: Largest single file we read (bytes). A 512×512×500 int16 enhanced CT is ~260 MB.
MAX_FILE_BYTES = 300 * 2**20
#: Largest total of all files of one upload once unzipped (bytes).
MAX_TOTAL_BYTES = 1024 * 2**20
#: Most files one zip may hold; a CT series has hundreds, not tens of thousands.
MAX_ZIP_MEMBERS = 5000

FileSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes]]


@dataclass(frozen=True)
class NamedBytes:
    """One file's content with the name it was given (for messages only)."""

    name: str
    data: bytes


def as_named_bytes(source: FileSource, name: str | None = None) -> NamedBytes:
    """Read one file-like source fully into memory.

    Accepts a filesystem path, raw bytes, or a binary file object (such as
    Streamlit's ``UploadedFile``). Raises :class:`InputError` for a missing
    path, a folder where a file was expected, or a file over ``MAX_FILE_BYTES``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "uploaded data"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or path.name
        if not path.exists():
            raise InputError(f"{label}: no such file ({path}).")
        if path.is_dir():
            raise InputError(f"{label} is a folder; expected a file.")
        size = path.stat().st_size
        _check_size(label, size)
        data = path.read_bytes()
    elif hasattr(source, "read"):
        label = name or getattr(source, "name", None) or "uploaded file"
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(f"{label}: expected binary content, got text.")
        data = bytes(data)
    else:
        raise InputError(
            f"Cannot read a {type(source).__name__}; give a file path, bytes or an uploaded file."
        )
    _check_size(label, len(data))
    return NamedBytes(label, data)


def _check_size(label: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{label} is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit per file."
        )


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size < 10 * 2**20 else f"{size / 2**20:.0f} MB"


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive."""
    return data[:4] == b"PK\x03\x04"


class UploadBudget:
    """The running total of bytes one upload has expanded to, across all its files and zips.

    Each file or zip member is counted as it is produced, so an upload of several
    zips is refused the moment the total passes ``MAX_TOTAL_BYTES``, not after
    every zip has been inflated.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_TOTAL_BYTES if limit is None else limit
        self.used = 0

    @property
    def left(self) -> int:
        return self.limit - self.used

    def take(self, label: str, size: int) -> None:
        """Count ``size`` bytes of ``label``; refuse if the upload would pass the limit."""
        if size > self.left:
            raise InputError(
                f"The upload would total over {_megabytes(self.limit)} once unzipped (reached at {label}); "
                "upload fewer or smaller files."
            )
        self.used += size


def unzip_in_memory(archive: NamedBytes, budget: UploadBudget | None = None) -> list[NamedBytes]:
    """The regular files of a zip archive, read into memory.

    Folders, macOS resource forks and hidden files are skipped. The declared
    uncompressed sizes are checked against the limits (per file, and what is
    left of ``budget``, the upload's running total) before any member is
    inflated; a header that under-declares a member's size fails its CRC check
    when read, so it cannot inflate past them either. A damaged member or an unsupported compression
    is an :class:`InputError` naming the member.
    """
    budget = budget or UploadBudget()
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive.data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            ValueError) as exc:
        raise InputError(f"{archive.name} is not a readable zip archive ({exc}). Upload the files themselves "
                         "or a zip made again from them.") from None
    with zf:
        members = [m for m in zf.infolist() if _is_regular_member(m)]
        if len(members) > MAX_ZIP_MEMBERS:
            raise InputError(
                f"{archive.name} holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted."
            )
        declared = sum(m.file_size for m in members)
        if declared > budget.left:
            raise InputError(
                f"{archive.name} would unpack to {_megabytes(declared)}, more than the {_megabytes(budget.left)} "
                f"left of the {_megabytes(budget.limit)} limit of one upload; upload fewer or smaller files."
            )
        return [_read_member(zf, archive.name, member, budget) for member in members]


#: What inflating a damaged or unsupported member raises (zlib.error: corrupt deflate
#: stream; EOFError: stream cut short; BadZipFile: CRC mismatch; NotImplementedError:
#: unknown compression method; RuntimeError: encrypted; lzma/bz2 errors subclass these
#: or OSError).
_MEMBER_ERRORS = (zlib.error, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError,
                  ValueError, lzma.LZMAError)


def _read_member(zf: zipfile.ZipFile, archive: str, member: zipfile.ZipInfo, budget: UploadBudget) -> NamedBytes:
    label = f"{member.filename} in {archive}"
    _check_size(label, member.file_size)
    budget.take(label, member.file_size)  # declared size: refused before inflating
    try:
        # zipfile never yields more than the declared size, and a member whose header
        # under-declares it fails the CRC check (BadZipFile), so the declared size is the
        # member's whole cost and nothing more needs counting after the read.
        with zf.open(member) as fh:
            data = fh.read()
    except _MEMBER_ERRORS as exc:
        if member.flag_bits & 0x1:
            problem = "is encrypted; upload an unencrypted zip"
        else:
            problem = (f"could not be unpacked ({exc}): the zip is damaged or uses an unsupported compression. "
                       "Upload the files themselves or a zip made with standard (deflate) compression")
        raise InputError(f"{label} {problem}.") from None
    return NamedBytes(member.filename, data)


def _is_regular_member(member: zipfile.ZipInfo) -> bool:
    base = member.filename.rsplit("/", 1)[-1]
    return not (
        member.is_dir() or member.filename.startswith("__MACOSX/") or base.startswith(".") or not base
    )


def expand_sources(sources: FileSource | Sequence[FileSource] | Mapping[str, bytes]) -> list[NamedBytes]:
    """Flatten one or many sources into a list of files.

    A folder path contributes every regular file below it; a zip (path or
    bytes) contributes its members; a mapping is taken as ``{file name: bytes}``
    (how uploads arrive). Raises :class:`InputError` when nothing remains or,
    as soon as it happens, when the files and unzipped members together pass
    ``MAX_TOTAL_BYTES``.
    """
    budget = UploadBudget()
    files = []
    for item in _read_sources(sources):
        if is_zip(item.data):
            files.extend(unzip_in_memory(item, budget))
        else:
            budget.take(item.name, len(item.data))
            files.append(item)
    if not files:
        raise InputError("No files were given; upload at least one file.")
    return files


def _read_sources(sources: FileSource | Sequence[FileSource] | Mapping[str, bytes]) -> Iterator[NamedBytes]:
    """Each source read into memory, one at a time (so a refusal stops the reading)."""
    if isinstance(sources, Mapping):
        for name, data in sources.items():
            yield as_named_bytes(data, name)
    elif isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(sources, "read"):
        yield from _expand_one(sources)
    elif isinstance(sources, Sequence):
        for source in sources:
            yield from _expand_one(source)
    else:
        raise InputError(f"Cannot read a {type(sources).__name__}; give paths, bytes or uploaded files.")


def _expand_one(source: FileSource) -> Iterator[NamedBytes]:
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        paths = sorted(p for p in Path(source).rglob("*") if p.is_file() and not p.name.startswith("."))
        for path in paths:
            yield as_named_bytes(path)
    elif isinstance(source, NamedBytes):
        yield source
    else:
        yield as_named_bytes(source)
