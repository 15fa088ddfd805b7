import numpy as np
import pytest

from medmodels.ecg_paper import (
    ASPECT_Y_OVER_X, MAX_POINTS, minmax_envelope, overview_figure, strip_figure, twelve_lead_figure, window_samples,
)


def _ecg_like(n: int, fs: float = 360.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    spikes = (np.abs(((t % 0.8) - 0.4)) < 0.01) * 1.5  # a 1.5 mV "QRS" every 0.8 s
    return (0.05 * rng.standard_normal(n) + spikes).astype(np.float32)


def test_envelope_keeps_every_extreme_and_caps_points():
    y = _ecg_like(650_000)
    idx, values = minmax_envelope(y, 2000)
    assert len(values) == 4000
    assert values.max() == y.max() and values.min() == y.min()
    assert np.all(np.diff(idx) >= 0)
    # short input passes through untouched
    idx, values = minmax_envelope(y[:100], 2000)
    np.testing.assert_array_equal(values, y[:100])


def test_strip_is_on_standard_paper_and_never_sends_the_whole_record():
    y = _ecg_like(650_000)
    fig = strip_figure(y, 360.0, 100.0, 60.0, lead_name="MLII")
    sent = sum(len(trace.x) for trace in fig.data)
    assert sent <= MAX_POINTS
    x, yaxis = fig.layout.xaxis, fig.layout.yaxis
    assert x.dtick == pytest.approx(0.2) and x.minor.dtick == pytest.approx(0.04)  # 5 mm and 1 mm at 25 mm/s
    assert yaxis.dtick == pytest.approx(0.5) and yaxis.minor.dtick == pytest.approx(0.1)  # at 10 mm/mV
    assert yaxis.scaleanchor == "x" and yaxis.scaleratio == pytest.approx(ASPECT_Y_OVER_X) == 0.4
    assert tuple(x.range) == pytest.approx((100.0, 160.0))


def test_beat_labels_only_inside_the_window():
    y = _ecg_like(36_000)
    samples = np.array([10, 3700, 3800, 30_000])
    fig = strip_figure(y, 360.0, 10.0, 5.0, beat_samples=samples, beat_labels=["N", "V", "A", "N"])
    text_traces = [t for t in fig.data if t.mode == "text"]
    assert len(text_traces) == 1 and list(text_traces[0].text) == ["V", "A"]


def test_lead_name_stays_clear_of_the_beat_labels():
    y = _ecg_like(36_000)
    fig = strip_figure(y, 360.0, 10.0, 5.0, lead_name="MLII", beat_samples=np.array([3601]), beat_labels=["N"])
    (lead,) = [a for a in fig.layout.annotations if a.text == "MLII"]
    assert (lead.xref, lead.yref, lead.y, lead.yanchor) == ("paper", "paper", 1, "bottom")  # above the paper


def test_window_is_clipped_to_the_record():
    assert window_samples(1000, 100.0, 8.0, 5.0) == slice(800, 1000)
    assert window_samples(1000, 100.0, -3.0, 1.0) == slice(0, 100)


def test_twelve_lead_layout_draws_each_standard_lead_plus_rhythm_strip():
    names = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    signal = np.stack([_ecg_like(5000, 500.0, seed=i) for i in range(12)], axis=1)
    fig = twelve_lead_figure(signal, 500.0, names)
    assert [t.name for t in fig.data] == ["I", "aVR", "V1", "V4", "II", "aVL", "V2", "V5", "III", "aVF", "V3", "V6", "II"]
    assert fig.data[-1].x[-1] > 9.9 and fig.data[0].x[-1] < 2.5


def test_twelve_lead_print_keeps_the_records_time_and_a_band_for_class_letters_under_the_rhythm_strip():
    from medmodels.ecg_paper import CLASS_BAND_MV, class_band_y

    names = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    signal = np.stack([_ecg_like(15_000, 500.0, seed=i) for i in range(12)], axis=1)
    plain = twelve_lead_figure(signal, 500.0, names, 12.0)
    banded = twelve_lead_figure(signal, 500.0, names, 12.0, class_band=True)
    assert tuple(banded.layout.xaxis.range) == (12.0, 22.0)  # seconds from the record's start, like the strip
    assert banded.data[0].x[0] == pytest.approx(12.0) and banded.data[-1].x[-1] == pytest.approx(22.0, abs=0.01)
    (low, high), (band_low, band_high) = plain.layout.yaxis.range, banded.layout.yaxis.range
    assert (band_low, band_high) == (low - CLASS_BAND_MV, high)
    rhythm = np.asarray(banded.data[-1].y)
    assert class_band_y(banded) < rhythm.min() - 0.2  # letters sit under the rhythm strip, clear of it


def test_overview_shades_the_window():
    fig = overview_figure(_ecg_like(650_000), 360.0, 30.0, 10.0)
    assert len(fig.data[0].x) <= 2000
    assert fig.layout.shapes[0].x0 == 30.0 and fig.layout.shapes[0].x1 == 40.0


def test_the_class_band_keeps_the_models_letters_below_the_trace_at_the_papers_scale():
    from medmodels.ecg_paper import CLASS_BAND_MV, class_band_y

    fs = 360.0
    t = np.arange(int(10 * fs)) / fs
    ecg = np.where((t % 0.8) < 0.03, 1.2, 0.0) - 0.6 * (((t + 0.05) % 0.8) < 0.02)  # R up, a deep S down
    plain = strip_figure(ecg, fs, 0.0, 10.0)
    banded = strip_figure(ecg, fs, 0.0, 10.0, class_band=True)
    (low, high), (band_low, band_high) = plain.layout.yaxis.range, banded.layout.yaxis.range
    assert (band_low, band_high) == (low - CLASS_BAND_MV, high)
    assert class_band_y(banded) < ecg.min() - 0.25  # a letter 13 px tall sits clear of the deepest S wave
    # the paper keeps 10 mm/mV against 25 mm/s: the taller range makes a taller figure
    assert banded.layout.height > plain.layout.height


def test_a_second_lead_sits_below_the_first_and_its_letters_on_the_same_paper_and_time_axis():
    from medmodels.ecg_paper import class_band_y

    fs = 360.0
    t = np.arange(int(10 * fs)) / fs
    first = np.where((t % 0.8) < 0.03, 1.2, 0.0)
    second = -0.8 * np.where(((t + 0.01) % 0.8) < 0.03, 1.0, 0.0)  # an inverted QRS, as in V1
    alone = strip_figure(first, fs, 0.0, 10.0, class_band=True)
    both = strip_figure(first, fs, 0.0, 10.0, class_band=True, second_lead=("V1", second))
    (lower,) = [trace for trace in both.data if trace.name == "V1"]
    np.testing.assert_allclose(lower.customdata.min(), -0.8)  # hover: the second lead's own mV
    offset = np.asarray(lower.y) - np.asarray(lower.customdata)
    np.testing.assert_allclose(offset, round(offset[0] * 2) / 2, atol=1e-9)  # shifted by whole large squares
    # nothing overlaps: first lead, then its class letters, then the second lead, all on one time axis
    assert class_band_y(both) == class_band_y(alone) > np.max(lower.y) + 0.2
    assert tuple(both.layout.xaxis.range) == tuple(alone.layout.xaxis.range) == (0.0, 10.0)
    assert both.layout.yaxis.range[1] == alone.layout.yaxis.range[1]
    assert both.layout.yaxis.range[0] <= np.min(lower.y) - 0.25 and both.layout.height > alone.layout.height
    # the mV tick labels would be wrong for the second lead: hidden, the paper keeps the scale
    assert both.layout.yaxis.showticklabels is False and alone.layout.yaxis.showticklabels is not False
    assert any(a.text == "V1" and a.yref == "y" for a in both.layout.annotations)
