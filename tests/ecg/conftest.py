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
def two_lead_classifier():
    """The committed two-lead beat classifier (MLII and a precordial lead; cached, read-only)."""
    from medmodels.ecg.model import TWO_LEAD_MODEL_DIR, WEIGHTS_FILE, cached_classifier

    require_file(TWO_LEAD_MODEL_DIR / WEIGHTS_FILE,
                 "committed two-lead ECG classifier missing; run `python -m medmodels.train ecg --leads 2`")
    return cached_classifier(2)


@pytest.fixture(scope="session", params=[1, 2], ids=["single-lead", "two-lead"])
def each_classifier(request):
    """Each committed beat classifier in turn."""
    return request.getfixturevalue("classifier" if request.param == 1 else "two_lead_classifier")


@pytest.fixture(scope="session")
def record_119(mitdb):
    """Record 119 (ventricular bigeminy): MLII lead (mV), fs, AAMI reference beats."""
    from medmodels.ecg.mitdb import reference_beats

    raw, fs, samples, labels = reference_beats("119")
    return np.asarray(raw), fs, samples, labels
