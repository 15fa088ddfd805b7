"""Record facts and layout decisions for the ECG viewer."""

from __future__ import annotations

import pandas as pd

from .ecg_paper import TWELVE_LEAD_LAYOUT
from .wfdb_io import ECGRecord

_STANDARD_LEADS = {lead.lower() for row in TWELVE_LEAD_LAYOUT for lead in row}


def has_twelve_leads(lead_names: tuple[str, ...]) -> bool:
    """Whether all 12 standard leads are present (names compared case-insensitively)."""
    return _STANDARD_LEADS <= {name.lower() for name in lead_names}


def format_duration(seconds: float) -> str:
    """'30 min 05.6 s' or '10.0 s'."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s" if minutes else f"{rest:.1f} s"


def record_facts(record: ECGRecord) -> pd.DataFrame:
    """One-row table: duration, fs, leads, units, reference annotations."""
    annotations = record.annotations
    return pd.DataFrame(
        [
            {
                "record": record.name,
                "duration": format_duration(record.duration_s),
                "sampling rate (Hz)": f"{record.fs:g}",
                "leads": ", ".join(record.lead_names),
                "units": _units_text(record.units),
                "reference annotations": f"{len(annotations.sample)}" if annotations else "none",
            }
        ]
    )


def _units_text(units: tuple[str, ...]) -> str:
    declared = sorted(set(units))
    return "mV" if declared == ["mV"] else f"{', '.join(declared)} (shown in mV)"
