"""Shared fixtures for the ECG tests: MIT-BIH location and the committed classifier."""

import numpy as np
import pytest

from medmodels.config import data_dir


@pytest.fixture(scope="session")
def mitdb():
    """Path to the MIT-BIH folder, or skip when the public data is not present."""
    path = data_dir() / "ecg" / "mitdb"
    if not (path / "100.hea").exists():
        pytest.skip(f"MIT-BIH Arrhythmia Database not found at {path} (set MEDMODELS_DATA)")
    return path


@pytest.fixture(scope="session")
def classifier():
    """The committed beat classifier (cached, read-only)."""
    from medmodels.ecg.model import MODEL_DIR, WEIGHTS_FILE, cached_classifier

    if not (MODEL_DIR / WEIGHTS_FILE).exists():
        pytest.skip("committed weights missing; run `python -m medmodels.train ecg`")
    return cached_classifier()


@pytest.fixture(scope="session")
def record_119(mitdb):
    """Record 119 (ventricular bigeminy): MLII lead (mV), fs, AAMI reference beats."""
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, samples, labels = reference_beats("119")
    return np.asarray(raw), fs, samples, labels
