"""Project-wide settings, read from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder holding ``medmodels/``).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Committed weights and model cards.
MODELS_DIR = REPO_ROOT / "assets" / "models"


def data_dir() -> Path:
    """The public data folder: ``$MEDMODELS_DATA``, default ``../shared/data``.

    A relative default is resolved against the repository root, not the
    current working directory, so tests and the app agree wherever they run.
    """
    configured = os.environ.get("MEDMODELS_DATA")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


def data_path(*parts: str) -> Path | None:
    """A path inside the data folder, or ``None`` when it is not there."""
    path = data_dir().joinpath(*parts)
    return path if path.exists() else None
