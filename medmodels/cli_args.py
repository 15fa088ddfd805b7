"""Argument types shared by the command lines: checked when parsed, before any model is loaded."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def output_folder(value: str) -> Path:
    """An ``--json``/``--out`` folder that exists or can be made; argparse reports why not (no traceback).

    Refused: an existing file, a path below a file, a place this user cannot write.
    """
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a file, not a folder: give a folder to write into")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{value} cannot be made: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{value}: no permission to write in {existing}")
    return path
