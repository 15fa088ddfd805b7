"""Shared fixtures for the ECG tests: MIT-BIH location and the committed classifier."""

import numpy as np
import pytest

from data_paths import require_file


@pytest.fixture(scope="session")
def classifier():
    """The committed beat classifier (cached, read-only)."""
    from medmodels.ecg.model import MODEL_DIR, WEIGHTS_FILE, cached_classifier

    require_file(MODEL_DIR / WEIGHTS_FILE, "committed ECG classifier weights missing; run `python -m medmodels.train ecg`")
    return cached_classifier()


@pytest.fixture(scope="session")
def record_119(mitdb):
    """Record 119 (ventricular bigeminy): MLII lead (mV), fs, AAMI reference beats."""
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, samples, labels = reference_beats("119")
    return np.asarray(raw), fs, samples, labels
