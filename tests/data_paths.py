"""Finding the public data folder and committed weights from tests.

Locally, a test whose data or weights are absent skips with the reason. In CI (the environment
variable ``CI`` set, as the clean-clone run does with ``CI=true``) it fails instead: a missing
file there is a broken setup, and a skip would let the tests that need it pass unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from medmodels.config import data_dir


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set to anything but empty, 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the calling test with ``reason``; in CI fail with it instead."""
    if in_ci():
        pytest.fail(f"{reason} [CI is set: a missing file fails here instead of skipping]", pytrace=False)
    pytest.skip(reason)


def require_data(*parts: str) -> Path:
    """The data path, or skip the calling test with a clear reason (fail in CI)."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        missing(f"public data not found at {path} (set MEDMODELS_DATA; see README 'Data')")
    return path


def require_file(path: Path, reason: str) -> Path:
    """``path`` if it is a file, else skip with ``reason`` (fail in CI): for committed weights."""
    if not Path(path).is_file():
        missing(f"{reason} ({path} not found)")
    return Path(path)
