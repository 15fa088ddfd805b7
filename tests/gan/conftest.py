"""Fixtures for the GAN tests: the committed generators (skip with the reason when absent, fail in CI)."""

import pytest

from data_paths import require_file


def _generator(modality: str):
    from medmodels.gan.generate import MODEL_DIRS, WEIGHT_FILES, cached_generator, read_card

    # Only a missing card or weights file skips; any other error while loading them fails the tests.
    command = f"run `python -m medmodels.train gan-{modality}`"
    require_file(MODEL_DIRS[modality] / "card.json", f"committed {modality} generator card missing; {command}")
    variant = read_card(modality).get("weights", {}).get("variant", "ema")
    require_file(MODEL_DIRS[modality] / WEIGHT_FILES[variant], f"committed {modality} generator weights missing; {command}")
    return cached_generator(modality)


@pytest.fixture(scope="session")
def ct_generator():
    return _generator("ct")


@pytest.fixture(scope="session")
def ecg_generator():
    return _generator("ecg")
