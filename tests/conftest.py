"""Shared fixtures: the data folder (tests that need it skip with a reason when it is absent; fail in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_paths import require_data


@pytest.fixture(scope="session")
def mitdb() -> Path:
    return require_data("ecg", "mitdb")


@pytest.fixture(scope="session")
def lidc_0001_slices() -> list[Path]:
    root = require_data("ct", "lidc", "LIDC-IDRI-0001")
    return sorted(root.glob("*/*/*.dcm"))


@pytest.fixture(scope="session")
def ct_small() -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm"))
