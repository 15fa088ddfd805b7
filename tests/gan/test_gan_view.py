"""Figures of the Synthetic samples page: every ECG strip on one paper scale, every sample marked."""

import numpy as np
import pytest

from medmodels.gan.view import BEATS_PER_STRIP, beats_strip_figures

FS, LENGTH, R_INDEX = 180.0, 154, 72


def _beats(n: int) -> np.ndarray:
    t = np.arange(LENGTH)
    return np.stack([np.exp(-0.5 * ((t - R_INDEX) / 3.0) ** 2) * (1 + 0.1 * k) for k in range(n)])


def test_a_short_last_strip_keeps_the_time_scale_of_the_full_ones():
    figures = beats_strip_figures(_beats(BEATS_PER_STRIP + 2), FS, R_INDEX, ["N"] * (BEATS_PER_STRIP + 2))
    assert len(figures) == 2
    spans = [f.layout.xaxis.range[1] - f.layout.xaxis.range[0] for f in figures]
    assert spans[0] == pytest.approx(BEATS_PER_STRIP * LENGTH / FS) and spans[1] == pytest.approx(spans[0])
    assert figures[0].layout.height == figures[1].layout.height
    labels = [t for trace in figures[1].data if trace.mode == "text" for t in trace.text]
    assert labels == ["SYNTHETIC N", "SYNTHETIC N"]  # only the two beats drawn, each marked


def test_a_single_beat_is_not_stretched_across_the_strip():
    (figure,) = beats_strip_figures(_beats(1), FS, R_INDEX, ["V"], marker=None)
    assert figure.layout.xaxis.range[1] == pytest.approx(BEATS_PER_STRIP * LENGTH / FS)
    assert max(figure.data[0].x) < LENGTH / FS
