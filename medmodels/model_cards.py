"""Model cards: data that lives beside each model's weights in assets/models/<name>/card.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .config import MODELS_DIR


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def installed_cards(models_dir: Path = MODELS_DIR) -> list[dict]:
    """Every model card found under ``models_dir``, each with its folder name as ``_dir``."""
    cards = []
    for card_path in sorted(models_dir.glob("*/card.json")):
        try:
            card = json.loads(card_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        cards.append({**card, "_dir": card_path.parent.name})
    return cards


def card_summary(card: dict) -> dict[str, str]:
    """One table row describing a card: name, task, training data, test split, version."""
    def text(value) -> str:
        if isinstance(value, dict):
            return str(value.get("summary") or value.get("name") or ", ".join(f"{k}: {v}" for k, v in value.items()))
        return "" if value is None else str(value)

    return {
        "model": text(card.get("name", card.get("_dir", ""))),
        "task": text(card.get("task", "")),
        "trained on": text(card.get("training_data", "")),
        "tested on": text(card.get("test_data", "")),
        "version": text(card.get("version", "")),
    }
