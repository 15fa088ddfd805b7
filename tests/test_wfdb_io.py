"""WFDB loading: all mitdb records, the multi-lead samples, uploads through a private folder, bad headers."""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from medmodels import InputError, ecg_signal, load_ecg
from medmodels.wfdb_io import group_records, load_ecg_files
from medmodels.sources import expand_sources

from concurrency import load_in_threads_keeping_warning_filters
from data_paths import require_data

# Lead pairs as published for the MIT-BIH records whose first lead is not MLII.
NON_MLII_FIRST = {"102": ("V5", "V2"), "104": ("V5", "V2"), "114": ("V5", "MLII")}


def _records(mitdb: Path) -> list[str]:
    return (mitdb / "RECORDS").read_text().split()


def test_all_48_mitdb_records_load_with_known_shape(mitdb):
    names = _records(mitdb)
    assert len(names) == 48
    for name in names:
        record = load_ecg(mitdb / name)
        assert record.fs == 360.0
        assert record.signal.shape == (650000, 2) and record.signal.dtype == np.float32
        assert record.lead_names == NON_MLII_FIRST.get(name, ("MLII", record.lead_names[1]))
        assert record.units == ("mV", "mV")
        assert record.annotations is not None and len(record.annotations.sample) > 1000
        # 11-bit ADC over 10 mV: the physical signal stays within ±5.12 mV of the baseline.
        assert np.nanmax(np.abs(record.signal)) <= 5.2


def test_record_100_known_values(mitdb):
    record = load_ecg(mitdb / "100")
    # PhysioNet: 2274 annotations in 100.atr, 2273 of them beats (2239 N, 33 A, 1 V).
    assert len(record.annotations.sample) == 2274
    symbols = record.annotations.symbol
    assert symbols.count("N") == 2239 and symbols.count("A") == 33 and symbols.count("V") == 1
    # First sample: raw 995 with baseline 1024 and gain 200 adu/mV.
    assert record.signal[0, 0] == pytest.approx((995 - 1024) / 200)
    assert record.default_lead() == 0
    signal, fs = ecg_signal(mitdb / "100")
    assert fs == 360.0 and signal.shape == (650000, 2)


@pytest.mark.parametrize(
    "relative, fs, shape",
    [
        ("ptbxl/00841_hr", 500.0, (5000, 12)),
        ("ptbxl/00841_lr", 100.0, (1000, 12)),
        ("ptbxl/02132_hr", 500.0, (5000, 12)),
        ("ptbxl/17583_hr", 500.0, (5000, 12)),
        ("ptbdb/s0010_re", 1000.0, (38400, 15)),
    ],
)
def test_multilead_samples(relative, fs, shape):
    record = load_ecg(require_data("ecg", "samples") / relative)
    assert record.fs == fs and record.signal.shape == shape
    assert record.lead_names[1].lower() == "ii" and record.default_lead() == 1
    assert record.annotations is None
    assert np.isfinite(record.signal).all()


def test_upload_equals_path_and_uses_a_removed_private_folder(mitdb, monkeypatch):
    created = []
    real = tempfile.TemporaryDirectory

    def spy(*args, **kwargs):
        folder = real(*args, **kwargs)
        created.append(Path(folder.name))
        return folder

    monkeypatch.setattr(tempfile, "TemporaryDirectory", spy)
    files = {name: (mitdb / name).read_bytes() for name in ("119.hea", "119.dat", "119.atr")}
    uploaded = load_ecg(files)
    from_path = load_ecg(mitdb / "119")
    np.testing.assert_array_equal(uploaded.signal, from_path.signal)
    np.testing.assert_array_equal(uploaded.annotations.sample, from_path.annotations.sample)
    assert uploaded.name == "119"
    assert len(created) == 1 and not created[0].exists()


def test_zip_with_several_records_is_grouped(mitdb):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in ("100.hea", "100.dat", "101.hea", "101.dat", "101.atr"):
            zf.write(mitdb / name, f"upload/{name}")
    groups = group_records(expand_sources(buffer.getvalue()))
    assert sorted(groups) == ["100", "101"]
    assert sorted(groups["101"]) == ["101.atr", "101.dat", "101.hea"]
    assert load_ecg_files(groups["100"]).annotations is None
    with pytest.raises(InputError, match="2 records"):
        load_ecg(buffer.getvalue())


def test_multi_file_record_reads_all_signal_files():
    folder = require_data("ecg", "samples", "ptbdb")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    record = load_ecg(files)
    assert record.signal.shape == (38400, 15) and record.lead_names[-3:] == ("vx", "vy", "vz")


# --------------------------------------------------------------------------- bad input


def _record_100(mitdb: Path) -> dict[str, bytes]:
    return {name: (mitdb / name).read_bytes() for name in ("100.hea", "100.dat")}


def _with_header(files: dict[str, bytes], old: bytes, new: bytes) -> dict[str, bytes]:
    return {**files, "100.hea": files["100.hea"].replace(old, new, 1)}


@pytest.mark.parametrize(
    "old, new, message",
    [
        (b" 360 ", b" 0 ", "sampling frequency of '0'"),
        (b" 360 ", b" -360 ", "positive number"),
        (b" 360 ", b" nan ", "positive number"),
        (b"100 2 ", b"100 17 ", "17 signals"),
        (b"100 2 ", b"100 0 ", "0 signals"),
        (b"650000", b"9999999999", "limit"),
        (b"650000", b"650001", "do not belong together or are truncated"),
        (b"100 2 ", b"100 x ", "not a number"),
        (b"212", b"999", "unknown WFDB storage format"),
    ],
)
def test_bad_headers_are_refused_with_the_bad_value_named(mitdb, old, new, message):
    with pytest.raises(InputError, match=message):
        load_ecg(_with_header(_record_100(mitdb), old, new))


def test_header_saying_two_signals_with_one_in_the_dat_is_refused(mitdb):
    files = _record_100(mitdb)
    files["100.dat"] = files["100.dat"][: len(files["100.dat"]) // 2]
    with pytest.raises(InputError, match=r"2 signal\(s\).*about 1 signal"):
        load_ecg(files)


def test_truncated_missing_and_swapped_files_are_refused(mitdb):
    files = _record_100(mitdb)
    with pytest.raises(InputError, match="truncated"):
        load_ecg({**files, "100.dat": files["100.dat"][:1000]})
    with pytest.raises(InputError, match="missing"):
        load_ecg({"100.hea": files["100.hea"]})
    with pytest.raises(InputError, match="binary"):
        load_ecg({"100.hea": files["100.dat"][:500], "100.dat": files["100.dat"]})
    with pytest.raises(InputError, match=r"No WFDB header \(\.hea\)"):
        load_ecg({"100.dat": files["100.dat"]})


def test_oversized_header_is_refused(mitdb):
    files = _record_100(mitdb)
    padded = files["100.hea"] + b"# padding\n" * 8000
    with pytest.raises(InputError, match="64 KB"):
        load_ecg({**files, "100.hea": padded})


@pytest.mark.parametrize(
    "atr, message",
    [
        (b"\xff" * 37, r"could not be read \(cannot reshape"),
        (b"", "holds no annotations"),
        (b"\0\0", "holds no annotations"),  # only the end marker
        (struct.pack("<HH", (1 << 10) | 1000, 0), "marks sample 1,000, outside the record's 360 samples"),
    ],
    ids=["garbage", "empty", "end-marker-only", "past-the-end"],
)
def test_unreadable_empty_or_misplaced_annotations_are_refused_naming_the_atr(atr, message):
    # Never the signal with silently empty or misplaced reference labels: a refusal that says how to go on.
    with pytest.raises(InputError, match=f"^rec\\.atr, the annotation file, {message}.*Upload the record without "
                                         r"rec\.atr to view it without reference labels\.$"):
        load_ecg({**_tiny_record(), "rec.atr": atr})
    beats = struct.pack("<HHH", (1 << 10) | 100, (1 << 10) | 180, 0)  # N at samples 100 and 280 (code 1 = N)
    record = load_ecg({**_tiny_record(), "rec.atr": beats})
    assert record.annotations.sample.tolist() == [100, 280] and record.annotations.symbol == ("N", "N")


def test_units_are_converted_to_millivolts(mitdb, tmp_path):
    header = (mitdb / "100.hea").read_text().replace("212 200 11", "212 200(1024)/uV 11")
    files = {"100.hea": header.encode(), "100.dat": (mitdb / "100.dat").read_bytes()}
    record = load_ecg(files)
    reference = load_ecg(mitdb / "100")
    assert record.units[0] == "uV"
    np.testing.assert_allclose(record.signal[:100, 0], reference.signal[:100, 0] / 1000, rtol=1e-6)


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(InputError, match="No WFDB header"):
        load_ecg(tmp_path / "nothing")


def test_physionet_names_are_validated_before_any_request():
    from medmodels.wfdb_io import load_ecg_physionet

    with pytest.raises(InputError, match="not a valid PhysioNet database"):
        load_ecg_physionet("../etc", "100")
    with pytest.raises(InputError, match="not a valid PhysioNet record"):
        load_ecg_physionet("mitdb", "100; rm")


def _physionet_served_from(monkeypatch, folder: Path, annotation=None) -> None:
    """wfdb's PhysioNet calls answered from a local copy (no network in tests); ``annotation`` replaces the .atr."""
    import wfdb

    real = {name: getattr(wfdb, name) for name in ("rdheader", "rdrecord", "rdann")}
    monkeypatch.setattr(wfdb, "rdheader", lambda record, pn_dir: real["rdheader"](str(folder / record)))
    monkeypatch.setattr(wfdb, "rdrecord", lambda record, pn_dir, physical: real["rdrecord"](str(folder / record)))
    monkeypatch.setattr(wfdb, "rdann", lambda record, ext, pn_dir: annotation or real["rdann"](str(folder / record), ext))


def test_a_physionet_record_keeps_its_reference_labels_and_rhythm_notes(monkeypatch, mitdb):
    from medmodels.wfdb_io import load_ecg_physionet

    _physionet_served_from(monkeypatch, mitdb)
    record = load_ecg_physionet("mitdb", "119")
    assert record.annotations.symbol.count("V") == 444  # record 119's published count
    assert "(B" in record.annotations.aux_note  # its ventricular bigeminy episodes


def test_a_physionet_annotation_outside_the_record_is_refused(monkeypatch, mitdb):
    import wfdb
    from medmodels.wfdb_io import load_ecg_physionet

    shifted = wfdb.rdann(str(mitdb / "119"), "atr")
    shifted.sample = shifted.sample + 650_000  # a file that belongs to a longer record
    _physionet_served_from(monkeypatch, mitdb, annotation=shifted)
    with pytest.raises(InputError, match=r"mitdb/119\.atr, the annotation file, marks sample 650,\d{3}, outside the "
                                         r"record's 650,000 samples.*Download 119\.hea"):
        load_ecg_physionet("mitdb", "119")


def _tiny_record(name: str = "rec", gain: str = "200", comment: str = "") -> dict[str, bytes]:
    """A one-lead, one-second format-16 record at 360 Hz, built in memory (a 1 mV square pulse)."""
    digital = np.where((np.arange(360) // 90) % 2 == 1, 200, 0).astype("<i2")
    header = f"{name} 1 360 {digital.size}\n{name}.dat 16 {gain} 16 0 {int(digital[0])} 0 0 MLII\n{comment}"
    return {f"{name}.hea": header.encode(), f"{name}.dat": digital.tobytes()}


def test_concurrent_loads_leave_the_process_warning_filters_as_they_were():
    files = _tiny_record()
    loaded = load_in_threads_keeping_warning_filters(lambda: load_ecg(files), 40)
    assert all(record.n_samples == 360 for record in loaded)


@pytest.mark.parametrize(
    "gain, message",
    [
        ("1e-300", r"ADC gain of 1e-300 per mV; real ECG recorders have 0\.01 to 1e\+07 per mV"),
        ("1e12", "ADC gain of 1e12 per mV; real ECG recorders"),
        ("200/nV", r"ADC gain of 200 per nV \(2e\+08 per mV\)"),
        ("0", r"ADC gain of 0 \(0 marks an uncalibrated signal"),
        ("nan", "ADC gain of nan; it must be a positive number of ADC units per mV"),
        ("inf(0)/uV", "ADC gain of inf; it must be a positive number of ADC units per uV"),
        ("-200", "ADC gain of -200; it must be a positive number"),
        ("abc", "ADC gain of 'abc', not a number"),
    ],
)
def test_unusable_gains_are_refused_naming_the_channel_and_value(gain, message):
    with pytest.raises(InputError, match=r"^rec\.hea: signal 1 \(MLII\) has an " + message):
        load_ecg(_tiny_record(gain=gain))
    assert np.nanmax(load_ecg(_tiny_record(gain="200(0)/uV")).signal) == pytest.approx(1e-3)  # 200 units per µV


def test_header_comments_are_read_from_memory_and_never_written(monkeypatch):
    from medmodels import wfdb_io

    written = {}
    real_write = wfdb_io._write_private

    def spy(folder, name, data):
        written[name] = data
        real_write(folder, name, data)

    monkeypatch.setattr(wfdb_io, "_write_private", spy)
    record = load_ecg(_tiny_record(comment="# age: 63 sex: F\n  #DOE^JANE, Ward 4  \n"))
    assert record.comments == ("age: 63 sex: F", "DOE^JANE, Ward 4")
    assert sorted(written) == ["record.hea", "signal0.dat"]
    assert b"#" not in written["record.hea"] and b"DOE" not in written["record.hea"]
    assert written["record.hea"].decode().splitlines() == ["record 1 360 360", "signal0.dat 16 200 16 0 0 0 0 MLII"]
