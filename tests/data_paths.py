"""Finding the public data folder from tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodels.config import data_dir


def require_data(*parts: str) -> Path:
    """The data path, or skip the calling test with a clear reason."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"public data not found at {path} (set MEDMODELS_DATA; see README 'Data')")
    return path
