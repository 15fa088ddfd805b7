"""Fixtures for the CT malignancy tests: the committed model and a few real test-split crops."""

from __future__ import annotations

import numpy as np
import pytest

from data_paths import require_data, require_file


@pytest.fixture(scope="session")
def malignancy_model():
    """The committed model (read-only wrapper), or skip when the weights are missing (fail in CI)."""
    from medmodels.ct.malignancy import MODEL_DIR, WEIGHTS_FILE, load_model

    require_file(MODEL_DIR / WEIGHTS_FILE,
                 "committed CT malignancy weights missing; run `python -m medmodels.ct.malignancy_train`")
    return load_model()


@pytest.fixture(scope="session")
def real_crop_rows():
    """20 crops of the patient-level test split (seeded choice) as table rows."""
    from medmodels.ct.crops import load_crop_table, patient_split

    table = load_crop_table(require_data("ct", "lidc_crops"))
    rows = np.random.default_rng(0).choice(patient_split(table).test, 20, replace=False)
    return table.iloc[np.sort(rows)]


@pytest.fixture(scope="session")
def real_crop_inputs(real_crop_rows, malignancy_model):
    """(20, 80, 80, 1) model inputs of those crops."""
    from medmodels.ct.crops import read_crop
    from medmodels.ct.malignancy import crops_to_input

    crops = [read_crop(path) for path in real_crop_rows["path"]]
    return crops_to_input(crops, pad=malignancy_model.card["input"]["padding"])
