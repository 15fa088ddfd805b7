"""Fixtures for the GAN tests: the committed generators (skip with the reason when absent)."""

import pytest


def _generator(modality: str):
    from medmodels.gan.generate import cached_generator

    try:
        return cached_generator(modality)
    except FileNotFoundError as exc:
        pytest.skip(f"committed generator missing: {exc}")


@pytest.fixture(scope="session")
def ct_generator():
    return _generator("ct")


@pytest.fixture(scope="session")
def ecg_generator():
    return _generator("ecg")
