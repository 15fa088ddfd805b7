"""WFDB record reading: validate the header against the files, then read.

Two levels, like wfdb itself:

* :func:`load_ecg` returns an :class:`ECGRecord` (signal in mV, fs, leads,
  reference annotations);
* :func:`ecg_signal` returns just ``(signal, fs)``.

Uploaded files are written only into a private temporary folder under fixed
names (never the client's file names), read by wfdb, and removed.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import wfdb

from .errors import InputError, reader_warnings_silenced
from .sources import NamedBytes, expand_sources

MAX_HEADER_BYTES = 64 * 1024
MAX_SIGNALS = 16
MAX_FS_HZ = 10_000.0
#: Samples × signals held in memory at once (float32: 800 MB at the cap).
MAX_TOTAL_SAMPLES = 200_000_000

#: Bytes per sample of each WFDB storage format (None: compressed, size unknown).
_BYTES_PER_SAMPLE: dict[str, float | None] = {
    "8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2,
    "212": 1.5, "310": 4 / 3, "311": 4 / 3, "508": None, "516": None, "524": None,
}
#: Physical units to mV.
_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nv": 1e-6}
#: Accepted ADC gains in ADC units per mV (units converted; other units taken as mV, as the signal is).
#: Real recorders resolve about 0.1 to 10 µV per unit (100 to 10,000 per mV; MIT-BIH: 200); a gain
#: outside 0.01 to 1e7 per mV (100 mV or 0.1 nV per unit) cannot be right, and a tiny one makes the
#: signal overflow to infinity.
MIN_GAIN_PER_MV = 0.01
MAX_GAIN_PER_MV = 1e7
#: The signal line's gain field: gain, optional (baseline), optional /units.
_GAIN_FIELD = re.compile(r"^([^(/]*)(?:\((-?\d+)\))?(?:/(.*))?$")
#: Preferred leads for rhythm analysis, in order.
PREFERRED_LEADS = ("MLII", "II", "ii", "ML2")


@dataclass(frozen=True)
class Annotations:
    """Reference annotations: sample indices, their WFDB symbols and aux notes (rhythm changes such as '(B')."""

    sample: np.ndarray
    symbol: tuple[str, ...]
    aux_note: tuple[str, ...] = ()


@dataclass(frozen=True)
class ECGRecord:
    """An ECG record in physical units.

    Attributes:
        name: record name (from the header).
        signal: float32 array (samples, leads) in mV; NaN where the record
            marks samples invalid.
        fs: sampling frequency in Hz.
        lead_names: one per column of ``signal``.
        units: the units the record declared, per lead (converted to mV).
        annotations: reference annotations (``.atr``) or ``None``.
        comments: header comment lines. They may carry age, sex and diagnoses:
            show them only on deliberate request, never log them.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead_names: tuple[str, ...]
    units: tuple[str, ...]
    annotations: Annotations | None = None
    comments: tuple[str, ...] = field(default=(), repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[0])

    @property
    def n_leads(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    def default_lead(self) -> int:
        """Index of MLII or lead II when present, else 0."""
        for preferred in PREFERRED_LEADS:
            if preferred in self.lead_names:
                return self.lead_names.index(preferred)
        lowered = [name.lower() for name in self.lead_names]
        return lowered.index("ii") if "ii" in lowered else 0


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class _SignalSpec:
    file_name: str
    fmt: str
    byte_offset: int


@dataclass(frozen=True)
class _Header:
    name: str
    n_signals: int
    fs: float
    sig_len: int | None
    signals: tuple[_SignalSpec, ...]


def parse_header(text: str, label: str = "header") -> _Header:
    """Parse and validate the parts of a WFDB header that decide what to read."""
    if len(text.encode("utf-8", "replace")) > MAX_HEADER_BYTES:
        raise InputError(f"{label} is over {MAX_HEADER_BYTES // 1024} KB; a WFDB header is a few lines of text.")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _is_comment(ln)]
    if not lines:
        raise InputError(f"{label} is empty; upload the record's .hea header with its .dat file.")
    fields = lines[0].split()
    if "/" in fields[0]:
        raise InputError(f"{label} describes a multi-segment record; upload a single-segment record.")
    n_signals = _int_field(fields, 1, label, "number of signals")
    if not 1 <= n_signals <= MAX_SIGNALS:
        raise InputError(f"{label} declares {n_signals} signals; expected 1 to {MAX_SIGNALS}.")
    fs = _fs_field(fields, label)
    sig_len = _int_field(fields, 3, label, "signal length") if len(fields) > 3 else None
    if sig_len is not None and sig_len < 0:
        raise InputError(f"{label} declares a negative signal length ({sig_len}).")
    if sig_len and sig_len * n_signals > MAX_TOTAL_SAMPLES:
        raise InputError(
            f"{label} declares {sig_len:,} samples × {n_signals} signals, over the "
            f"{MAX_TOTAL_SAMPLES:,}-sample limit."
        )
    specs = [_signal_spec(line, label, index) for index, line in enumerate(lines[1 : 1 + n_signals])]
    if len(specs) != n_signals:
        raise InputError(f"{label} declares {n_signals} signals but describes {len(specs)}.")
    return _Header(fields[0], n_signals, fs, sig_len or None, tuple(specs))


def _int_field(fields: list[str], index: int, label: str, what: str) -> int:
    try:
        return int(fields[index])
    except (IndexError, ValueError):
        raise InputError(f"{label}: the {what} in its first line is missing or not a number.") from None


def _fs_field(fields: list[str], label: str) -> float:
    if len(fields) < 3:
        return 250.0  # the WFDB default when the header omits it
    match = re.match(r"^([-+0-9.eE]+)", fields[2])
    try:
        fs = float(match.group(1)) if match else float("nan")
    except ValueError:
        fs = float("nan")
    if not math.isfinite(fs) or fs <= 0:
        raise InputError(f"{label} declares a sampling frequency of {fields[2]!r} Hz; it must be a positive number.")
    if fs > MAX_FS_HZ:
        raise InputError(f"{label} declares {fs:g} Hz; ECG records are sampled at up to {MAX_FS_HZ:,.0f} Hz.")
    return fs


def _signal_spec(line: str, label: str, index: int) -> _SignalSpec:
    parts = line.split()
    if len(parts) < 2:
        raise InputError(f"{label}: the signal line {line!r} lacks a file name and format.")
    match = re.match(r"^(\d+)(?:x\d+)?(?::\d+)?(?:\+(\d+))?$", parts[1])
    if not match or match.group(1) not in _BYTES_PER_SAMPLE:
        raise InputError(f"{label}: unknown WFDB storage format {parts[1]!r}.")
    if parts[0] == "~":
        raise InputError(f"{label}: signals without a data file ('~') are not supported.")
    channel = f"signal {index + 1}" + (f" ({' '.join(parts[8:])})" if len(parts) > 8 else "")
    if len(parts) > 2:
        _check_gain(parts[2], f"{label}: {channel}")
    return _SignalSpec(parts[0], match.group(1), int(match.group(2) or 0))


def _check_gain(field_text: str, where: str) -> None:
    """Refuse an ADC gain that is not a number, not finite, zero or negative, or absurd for its units.

    A missing gain stays WFDB's default of 200 per unit, as wfdb reads it. An explicit 0 is refused
    although WFDB then also assumes 200: it marks the amplitude as uncalibrated, so millivolts (and
    the classifier's reading of them) would be invented.
    """
    match = _GAIN_FIELD.match(field_text)
    gain_text = match.group(1) if match else field_text
    if not gain_text:
        return
    units = (match.group(3) if match else None) or "mV"
    try:
        gain = float(gain_text)
    except ValueError:
        raise InputError(f"{where} has an ADC gain of {gain_text!r}, not a number.") from None
    if not math.isfinite(gain) or gain <= 0:
        uncalibrated = " (0 marks an uncalibrated signal, whose millivolts are unknown)" if gain == 0 else ""
        raise InputError(
            f"{where} has an ADC gain of {gain_text}{uncalibrated}; it must be a positive number of ADC units per "
            f"{units}. Upload a calibrated record."
        )
    per_mv = gain / _TO_MV.get(units.lower(), 1.0)
    if not MIN_GAIN_PER_MV <= per_mv <= MAX_GAIN_PER_MV:
        in_mv = f" ({per_mv:g} per mV)" if units.lower() != "mv" else ""
        raise InputError(
            f"{where} has an ADC gain of {gain_text} per {units}{in_mv}; real ECG recorders have "
            f"{MIN_GAIN_PER_MV:g} to {MAX_GAIN_PER_MV:g} per mV. The header is damaged."
        )


def check_data_sizes(header: _Header, sizes: Mapping[str, int], label: str) -> None:
    """Refuse data files that are missing or whose size disagrees with the header."""
    by_file: dict[str, list[_SignalSpec]] = {}
    for spec in header.signals:
        by_file.setdefault(spec.file_name, []).append(spec)
    for file_name, specs in by_file.items():
        if file_name not in sizes:
            raise InputError(
                f"{label} names the data file {file_name}, which is missing. Upload the .hea together with its "
                f"{file_name} (and .atr if you have it)."
            )
        bps = _BYTES_PER_SAMPLE[specs[0].fmt]
        if bps is None or header.sig_len is None:
            continue
        actual = sizes[file_name] - specs[0].byte_offset
        expected = math.ceil(header.sig_len * len(specs) * bps)
        slack = math.ceil(len(specs) * bps) + 1  # padding of the last frame
        if not expected <= actual <= expected + slack:
            implied = actual / (header.sig_len * bps)
            raise InputError(
                f"{label} says {len(specs)} signal(s) × {header.sig_len:,} samples in format {specs[0].fmt} "
                f"({expected:,} bytes) but {file_name} holds {max(actual, 0):,} bytes "
                f"(about {implied:.2g} signal(s) of that length). The files do not belong together or are truncated."
            )


# --------------------------------------------------------------------------- reading


def load_ecg(source: str | os.PathLike | Mapping[str, bytes] | Sequence) -> ECGRecord:
    """Read one WFDB record.

    Args:
        source: a record path without extension (as wfdb takes it, e.g.
            ``data/mitdb/100``), or the uploaded files of one record: a mapping
            of file name to bytes, or a list of uploaded files/zip.

    Returns:
        An :class:`ECGRecord` with the signal in mV.

    Raises:
        InputError: for any unusable input, naming the problem.
    """
    if isinstance(source, (str, os.PathLike)):
        return _load_from_path(Path(source))
    records = group_records(expand_sources(source))
    if len(records) != 1:
        raise InputError(f"The upload holds {len(records)} records ({', '.join(records)}); load them one at a time.")
    return load_ecg_files(next(iter(records.values())))


def ecg_signal(source: str | os.PathLike | Mapping[str, bytes]) -> tuple[np.ndarray, float]:
    """Plain arrays: ``(signal float32 (samples, leads) in mV, fs in Hz)``."""
    record = load_ecg(source)
    return record.signal, record.fs


def group_records(files: Sequence[NamedBytes]) -> dict[str, dict[str, bytes]]:
    """Group uploaded files by record: ``{record name: {file name: bytes}}``.

    Each ``.hea`` starts a record; the files it names and ``<stem>.atr`` join it.
    Raises :class:`InputError` when no header was uploaded.
    """
    by_name = {Path(f.name).name: f.data for f in files}
    headers = sorted(name for name in by_name if name.lower().endswith(".hea"))
    if not headers:
        found = ", ".join(sorted(by_name)[:5]) or "nothing"
        raise InputError(
            f"No WFDB header (.hea) was uploaded (got {found}). Upload the record's .hea and .dat files "
            "(and .atr if present), or a zip of them."
        )
    records = {}
    for hea in headers:
        stem = hea[:-4]
        text = _decode_header(by_name[hea], hea)
        wanted = {spec.file_name for spec in parse_header(text, hea).signals} | {f"{stem}.atr"}
        records[stem] = {hea: by_name[hea], **{n: by_name[n] for n in wanted if n in by_name}}
    return records


def load_ecg_files(files: Mapping[str, bytes]) -> ECGRecord:
    """Read one record from its uploaded files, through a private temporary folder."""
    hea = _single_header(files)
    text = _decode_header(files[hea], hea)
    header = parse_header(text, hea)
    check_data_sizes(header, {name: len(data) for name, data in files.items()}, hea)
    fixed_names = {name: f"signal{i}.dat" for i, name in enumerate(dict.fromkeys(s.file_name for s in header.signals))}
    annotation = files.get(f"{hea[:-4]}.atr")
    with tempfile.TemporaryDirectory(prefix="medmodels-") as folder:
        # Comment lines may hold age, sex, diagnoses or names: they are read from memory, never written.
        _write_private(Path(folder), "record.hea", _rename_data_files(text, fixed_names).encode())
        for original, fixed in fixed_names.items():
            _write_private(Path(folder), fixed, files[original])
        if annotation is not None:
            _write_private(Path(folder), "record.atr", annotation)
        return _read_record(Path(folder) / "record", hea, has_atr=annotation is not None, name=header.name,
                            comments=header_comments(text))


def header_comments(text: str) -> tuple[str, ...]:
    """The header's comment lines without their '#', as wfdb reads them into ``Record.comments``."""
    return tuple(line.strip().strip(" \t#") for line in text.splitlines() if _is_comment(line))


def _is_comment(line: str) -> bool:
    """A WFDB header comment line ('#' first, after any indent)."""
    return line.strip().startswith("#")


_PHYSIONET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def load_ecg_physionet(database: str, record: str) -> ECGRecord:
    """Stream one record (and its .atr if published) from PhysioNet, e.g. ``("mitdb", "100")``.

    The header is fetched and validated first; the signal is read only if it
    passes. Needs internet access: offline, an :class:`InputError` says so.
    """
    for value, what in ((database, "database"), (record, "record")):
        if not _PHYSIONET_NAME.match(value or "") or ".." in value:
            raise InputError(f"{value!r} is not a valid PhysioNet {what} name (e.g. database mitdb, record 100).")
    try:
        # Not inside reader_warnings_silenced: its lock is shared by every session's loads, and wfdb's downloads
        # have no timeout, so a stalled fetch would block every other upload. PhysioNet files are public.
        header = wfdb.rdheader(record, pn_dir=database)
    except Exception as exc:  # requests/HTTP/parse errors of assorted types
        raise InputError(
            f"Could not fetch {database}/{record} from PhysioNet ({_short(exc)}). Without internet access, "
            "upload the record's files or pick a local example."
        ) from None
    gains = [f"{gain}/{unit}" if unit else str(gain) for gain, unit in
             zip(header.adc_gain or [], header.units or [None] * (header.n_sig or 0))]
    text = f"{record} {header.n_sig} {header.fs} {header.sig_len or ''}\n" + "".join(
        f"{name} {fmt} {gain}\n" for name, fmt, gain in zip(header.file_name or [], header.fmt or [], gains)
    )
    parse_header(text, f"{database}/{record}.hea")  # same limits as an upload
    try:
        rec = wfdb.rdrecord(record, pn_dir=database, physical=True)
        try:
            ann = wfdb.rdann(record, "atr", pn_dir=database)
        except Exception:  # most databases publish no .atr
            ann = None
    except Exception as exc:
        raise InputError(f"Could not read {database}/{record} from PhysioNet ({_short(exc)}).") from None
    signal_only = _to_record(rec, record, None)
    if ann is None:
        return signal_only
    # Checked like an uploaded .atr: a published file can still be empty or belong to another record.
    retry = f"Download {record}.hea and its signal file from PhysioNet and upload them without the .atr."
    annotations = _checked_annotations(ann, f"{database}/{record}.atr", signal_only.n_samples, retry)
    return replace(signal_only, annotations=annotations)


def _load_from_path(path: Path) -> ECGRecord:
    base = path.with_suffix("") if path.suffix.lower() in (".hea", ".dat", ".atr") else path
    hea = base.parent / f"{base.name}.hea"
    if not hea.is_file():
        raise InputError(f"No WFDB header at {hea}; give the record path without extension (e.g. mitdb/100).")
    if hea.stat().st_size > MAX_HEADER_BYTES:
        raise InputError(f"{hea.name} is over {MAX_HEADER_BYTES // 1024} KB; a WFDB header is a few lines of text.")
    text = _decode_header(hea.read_bytes(), hea.name)
    header = parse_header(text, hea.name)
    sizes = {s.file_name: (base.parent / s.file_name).stat().st_size for s in header.signals
             if (base.parent / s.file_name).is_file()}
    check_data_sizes(header, sizes, hea.name)
    atr = base.parent / f"{base.name}.atr"
    return _read_record(base, hea.name, has_atr=atr.is_file(), name=header.name)


def _read_record(base: Path, label: str, *, has_atr: bool, name: str,
                 comments: Sequence[str] | None = None) -> ECGRecord:
    """The record at ``base``; ``comments`` replace the header's when given (uploads: read from memory)."""
    try:
        with reader_warnings_silenced():
            rec = wfdb.rdrecord(str(base), physical=True)
    except Exception as exc:  # wfdb raises assorted types on malformed files
        raise InputError(f"{label}: the record could not be read ({_short(exc)}).") from None
    if comments is not None:
        rec.comments = list(comments)
    record = _to_record(rec, name, None, label)
    if not has_atr:
        return record
    atr_label = f"{label[:-4] if label.lower().endswith('.hea') else label}.atr"
    return replace(record, annotations=_read_annotations(base, atr_label, record.n_samples))


def _to_record(rec: wfdb.Record, name: str, annotations: Annotations | None, label: str = "") -> ECGRecord:
    if rec.p_signal is None or rec.p_signal.ndim != 2 or rec.p_signal.shape[0] == 0:
        raise InputError(f"{label or name}: the record holds no samples.")
    units = tuple(str(u or "mV") for u in (rec.units or ["mV"] * rec.n_sig))
    signal = (rec.p_signal * np.array([_TO_MV.get(u.lower(), 1.0) for u in units])).astype(np.float32)
    if np.isinf(signal).any():  # the gains are checked with the header; this is the last guard
        raise InputError(f"{label or name}: the signal overflows to infinity in mV; its ADC gains are wrong.")
    return ECGRecord(
        name=name,
        signal=signal,
        fs=float(rec.fs),
        lead_names=tuple(str(n) for n in rec.sig_name),
        units=units,
        annotations=annotations,
        comments=tuple(rec.comments or ()),
    )


def _read_annotations(base: Path, atr_label: str, n_samples: int) -> Annotations:
    """The record's reference annotations, refused (never silently empty) when unreadable or outside the record.

    A clear refusal rather than the signal with a note: an empty or garbled .atr would otherwise
    show an unannotated strip, or labels at the wrong beats, as if they were the reference.
    """
    retry = f"Upload the record without {atr_label} to view it without reference labels."
    try:
        with reader_warnings_silenced():
            ann = wfdb.rdann(str(base), "atr")
    except Exception as exc:
        raise InputError(f"{atr_label}, the annotation file, could not be read ({_short(exc)}). {retry}") from None
    return _checked_annotations(ann, atr_label, n_samples, retry)


def _checked_annotations(ann: wfdb.Annotation, atr_label: str, n_samples: int, retry: str) -> Annotations:
    """``ann`` as :class:`Annotations`, refused (``retry`` says what to do instead) when it holds
    none or marks a sample outside the record."""
    sample = np.asarray(ann.sample, dtype=np.int64)
    if sample.size == 0:
        raise InputError(f"{atr_label}, the annotation file, holds no annotations. {retry}")
    outside = sample[(sample < 0) | (sample >= n_samples)]
    if outside.size:
        raise InputError(
            f"{atr_label}, the annotation file, marks sample {int(outside[0]):,}, outside the record's "
            f"{n_samples:,} samples: it is damaged or belongs to another record. {retry}"
        )
    aux = tuple(str(a or "").strip("\x00 ") for a in (ann.aux_note or []))  # MIT-BIH pads rhythm notes with NUL
    return Annotations(sample, tuple(ann.symbol), aux)


def _single_header(files: Mapping[str, bytes]) -> str:
    headers = [n for n in files if n.lower().endswith(".hea")]
    if len(headers) != 1:
        raise InputError(f"Expected one .hea header for the record, got {len(headers)}.")
    return headers[0]


def _decode_header(data: bytes, label: str) -> str:
    if len(data) > MAX_HEADER_BYTES:
        raise InputError(f"{label} is over {MAX_HEADER_BYTES // 1024} KB; a WFDB header is a few lines of text.")
    printable = sum(1 for b in data if 32 <= b < 127 or b in (9, 10, 13))
    if data and (b"\x00" in data or printable < 0.95 * len(data)):
        raise InputError(f"{label} is binary, not a WFDB header (text). Did you swap the .hea and .dat files?")
    return data.decode("latin-1")


def _rename_data_files(text: str, fixed_names: Mapping[str, str]) -> str:
    """The header without comment lines, its record name and data file names replaced by fixed ones."""
    out, seen_record_line = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or _is_comment(stripped):
            continue  # comment lines are read from memory (header_comments), never written to disk
        parts = stripped.split(maxsplit=1)
        if not seen_record_line:
            parts[0], seen_record_line = "record", True
        elif parts[0] in fixed_names:
            parts[0] = fixed_names[parts[0]]
        out.append(" ".join(parts))
    return "\n".join(out) + "\n"


def _write_private(folder: Path, name: str, data: bytes) -> None:
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]
