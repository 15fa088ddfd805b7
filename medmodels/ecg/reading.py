"""Reading ECG records: the one place that touches files (swap the reader here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medmodels.errors import InputError


@dataclass(frozen=True)
class EcgRecordData:
    """A record as the ECG modules need it.

    ``signal``: float32 (samples, leads) in mV; ``fs`` in Hz; ``lead_names``
    one per column; ``ann_sample`` int64 and ``ann_symbol`` list of str, or
    ``None`` when the record has no reference annotations.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead_names: tuple[str, ...]
    ann_sample: np.ndarray | None
    ann_symbol: list[str] | None


def read_record(path: str | Path) -> EcgRecordData:
    """Read a WFDB record (path without extension), with its ``.atr`` annotations if present.

    Uses the project's loader ``medmodels.load_ecg`` when it exists, else wfdb.
    """
    path = Path(path)
    try:
        from medmodels import load_ecg  # type: ignore[attr-defined]
    except ImportError:
        load_ecg = None
    if load_ecg is not None:
        rec = load_ecg(path)
        ann = getattr(rec, "annotations", None)
        return EcgRecordData(
            name=path.name,
            signal=np.asarray(rec.signal, dtype=np.float32),
            fs=float(rec.fs),
            lead_names=tuple(str(n) for n in rec.lead_names),
            ann_sample=None if ann is None else np.asarray(ann.sample, dtype=np.int64),
            ann_symbol=None if ann is None else list(ann.symbol),
        )
    import wfdb

    try:
        rec = wfdb.rdrecord(str(path))
    except FileNotFoundError as exc:
        raise InputError(f"No WFDB record at {path} (expected {path}.hea and its signal file).") from exc
    ann_sample = ann_symbol = None
    if path.with_suffix(".atr").exists() or Path(str(path) + ".atr").exists():
        ann = wfdb.rdann(str(path), "atr")
        ann_sample, ann_symbol = np.asarray(ann.sample, dtype=np.int64), list(ann.symbol)
    signal = np.asarray(rec.p_signal, dtype=np.float32)
    units = [u.lower() for u in (rec.units or [])]
    # Convert µV records to mV so every later step can assume millivolts.
    for j, unit in enumerate(units):
        if unit in ("uv", "µv", "microvolts"):
            signal[:, j] = signal[:, j] / 1000.0
    return EcgRecordData(path.name, signal, float(rec.fs), tuple(rec.sig_name), ann_sample, ann_symbol)


def choose_lead(lead_names: tuple[str, ...] | list[str], requested: str | None = None) -> int:
    """Column index of the lead to analyse: ``requested``, else MLII, else II, else the first."""
    names = [str(n).strip() for n in lead_names]
    upper = [n.upper() for n in names]
    if requested is not None:
        if requested.upper() in upper:
            return upper.index(requested.upper())
        raise InputError(f"Lead {requested!r} is not in this record; it has {', '.join(names)}.")
    for preferred in ("MLII", "II"):
        if preferred in upper:
            return upper.index(preferred)
    return 0


#: Leads the two-lead classifier takes as its second lead, in order of preference: the precordial leads.  Its
#: training data's second leads were V1 (20 of the 22 DS1 records), V4 and V5; limb leads were never a second lead.
SECOND_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")


def precordial_name(lead_name: str) -> str | None:
    """"V1"…"V6" when a lead name means a precordial lead ("V1", "v1", "Lead V1", "ECG V1"), else None."""
    key = "".join(ch for ch in str(lead_name).upper() if ch.isalnum())
    for prefix in ("LEAD", "ECG"):
        key = key.removeprefix(prefix)
    return key if key in SECOND_LEADS else None


def second_lead_choices(lead_names, first: int) -> list[int]:
    """Columns that can be the two-lead classifier's second lead beside column ``first``, preferred first."""
    names = [precordial_name(n) for n in lead_names]
    columns = [i for i, n in enumerate(names) if n is not None and i != first]
    return sorted(columns, key=lambda i: SECOND_LEADS.index(names[i]))


def choose_second_lead(lead_names, first: int, requested: str | None = None) -> int | None:
    """Column of the second lead: ``requested`` (a precordial lead other than ``first``), else V1, V2, … ; None if
    the record has no precordial lead besides ``first`` (the single-lead classifier is then used)."""
    choices = second_lead_choices(lead_names, first)
    if requested is None:
        return choices[0] if choices else None
    names = [str(n).strip() for n in lead_names]
    for i in choices:
        if names[i].upper() == requested.strip().upper():
            return i
    offered = ", ".join(names[i] for i in choices) or "none in this record"
    raise InputError(f"Second lead {requested!r} cannot be used: the two-lead classifier takes a precordial lead "
                     f"(V1-V6) other than the analysed one ({offered}).")


#: Names under which records label lead II or its Holter form MLII (modified lead II), the classifier's lead.
_LEAD_II_NAMES = {"II", "MLII", "ML2", "LEADII", "ECGII"}


def is_lead_ii(lead_name: str) -> bool:
    """Whether a lead name means lead II or MLII ("II", "MLII", "Lead II", "ecg ii", ...)."""
    return "".join(ch for ch in str(lead_name).upper() if ch.isalnum()) in _LEAD_II_NAMES
