"""Turning what a user hands us (paths, bytes, zips, uploads) into named bytes.

Everything stays in memory: uploads are never written to disk here. Limits are
checked before anything is expanded, so a zip bomb or an absurd upload is
refused with a message instead of exhausting the server's memory.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
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


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive."""
    return data[:4] == b"PK\x03\x04"


def unzip_in_memory(archive: NamedBytes) -> list[NamedBytes]:
    """The regular files of a zip archive, read into memory.

    Folders, macOS resource forks and hidden files are skipped. The declared
    uncompressed sizes are checked against the limits before any member is
    inflated, and each member is read with a cap so a lying header cannot
    inflate past it either.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(archive.data)) as zf:
            members = [m for m in zf.infolist() if _is_regular_member(m)]
            if len(members) > MAX_ZIP_MEMBERS:
                raise InputError(
                    f"{archive.name} holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted."
                )
            declared = sum(m.file_size for m in members)
            if declared > MAX_TOTAL_BYTES:
                raise InputError(
                    f"{archive.name} would unpack to {declared / 2**20:.0f} MB, "
                    f"over the {MAX_TOTAL_BYTES // 2**20} MB limit."
                )
            files = []
            for member in members:
                with zf.open(member) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
                _check_size(member.filename, len(data))
                files.append(NamedBytes(member.filename, data))
            return files
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        raise InputError(f"{archive.name} is not a readable zip archive ({exc}).") from None


def _is_regular_member(member: zipfile.ZipInfo) -> bool:
    base = member.filename.rsplit("/", 1)[-1]
    return not (
        member.is_dir() or member.filename.startswith("__MACOSX/") or base.startswith(".") or not base
    )


def expand_sources(sources: FileSource | Sequence[FileSource] | Mapping[str, bytes]) -> list[NamedBytes]:
    """Flatten one or many sources into a list of files.

    A folder path contributes every regular file below it; a zip (path or
    bytes) contributes its members; a mapping is taken as ``{file name: bytes}``
    (how uploads arrive). Raises :class:`InputError` when nothing remains or the
    total exceeds ``MAX_TOTAL_BYTES``.
    """
    items: Iterable
    if isinstance(sources, Mapping):
        items = [as_named_bytes(data, name) for name, data in sources.items()]
    elif isinstance(sources, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(sources, "read"):
        items = _expand_one(sources)
    elif isinstance(sources, Sequence):
        items = [f for src in sources for f in _expand_one(src)]
    else:
        raise InputError(f"Cannot read a {type(sources).__name__}; give paths, bytes or uploaded files.")
    files = [f for item in items for f in (unzip_in_memory(item) if is_zip(item.data) else [item])]
    if not files:
        raise InputError("No files were given; upload at least one file.")
    total = sum(len(f.data) for f in files)
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"The upload totals {total / 2**20:.0f} MB, over the {MAX_TOTAL_BYTES // 2**20} MB limit.")
    return files


def _expand_one(source: FileSource) -> list[NamedBytes]:
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        paths = sorted(p for p in Path(source).rglob("*") if p.is_file() and not p.name.startswith("."))
        return [as_named_bytes(p) for p in paths]
    if isinstance(source, NamedBytes):
        return [source]
    return [as_named_bytes(source)]
