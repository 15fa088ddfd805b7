"""Uploads into named bytes: damaged zips are refused naming the member, and the size limit holds across zips."""

from __future__ import annotations

import io
import random
import struct
import zipfile

import pytest

from medmodels import InputError
from medmodels import sources
from medmodels.sources import expand_sources

_PAYLOAD = b"".join(b"slice %d value %d\n" % (i, random.Random(i).randint(0, 99)) for i in range(3000))


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return bytearray(buffer.getvalue())


def _central_directory(archive: bytearray) -> int:
    return archive.find(b"PK\x01\x02")


def test_a_corrupt_deflate_stream_names_the_member():
    archive = _zip({"series/a.dcm": _PAYLOAD})
    start = 30 + len("series/a.dcm")  # the member's compressed bytes follow its local header
    for i in range(start + 100, start + 140):
        archive[i] ^= 0x55
    with pytest.raises(InputError, match=r"series/a\.dcm in uploaded data could not be unpacked \(Error -3"):
        expand_sources(bytes(archive))


def test_an_unsupported_compression_method_names_the_member():
    archive = _zip({"a.dcm": _PAYLOAD})
    struct.pack_into("<H", archive, 8, 99)  # local header: compression method 99 (AES, not supported)
    struct.pack_into("<H", archive, _central_directory(archive) + 10, 99)
    with pytest.raises(InputError, match=r"a\.dcm in uploaded data could not be unpacked .*unsupported compression"):
        expand_sources(bytes(archive))


def test_a_member_larger_than_its_header_declares_is_refused():
    archive = _zip({"a.dcm": _PAYLOAD})
    struct.pack_into("<I", archive, _central_directory(archive) + 24, 10)  # declares 10 bytes
    with pytest.raises(InputError, match=r"a\.dcm in uploaded data could not be unpacked \(Bad CRC"):
        expand_sources(bytes(archive))


def test_several_zips_are_refused_once_their_running_total_passes_the_limit(monkeypatch):
    monkeypatch.setattr(sources, "MAX_TOTAL_BYTES", 1_000_000)
    bombs = [bytes(_zip({f"bomb{i}.bin": bytes(600_000)})) for i in range(3)]  # 600 kB of zeros each
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, member, *args, **kwargs):
        opened.append(getattr(member, "filename", member))
        return real_open(self, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(InputError, match=r"bomb1\.zip would unpack to 0\.6 MB, more than the 0\.4 MB left"):
        expand_sources({f"bomb{i}.zip": data for i, data in enumerate(bombs)})
    assert opened == ["bomb0.bin"]  # the second zip was refused from its declared size, before inflating


def test_plain_files_count_towards_the_same_running_total(monkeypatch):
    monkeypatch.setattr(sources, "MAX_TOTAL_BYTES", 1_000_000)
    assert len(expand_sources({"a.dcm": bytes(600_000), "b.zip": bytes(_zip({"c.dcm": bytes(300_000)}))})) == 2
    with pytest.raises(InputError, match=r"d\.zip would unpack to 0\.3 MB, more than the 0\.1 MB left"):
        expand_sources({"a.dcm": bytes(600_000), "b.zip": bytes(_zip({"c.dcm": bytes(300_000)})),
                        "d.zip": bytes(_zip({"c.dcm": bytes(300_000)}))})
    with pytest.raises(InputError, match=r"over 1\.0 MB once unzipped \(reached at b\.dcm\)"):
        expand_sources({"a.dcm": bytes(600_000), "b.dcm": bytes(600_000)})
