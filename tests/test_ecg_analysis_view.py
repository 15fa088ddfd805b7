import numpy as np
import plotly.graph_objects as go
import pytest

from medmodels.ecg_analysis_view import (
    AAMI, add_beat_classes, beat_saliency_figure, beat_table, beat_views, confusion_figure, hr_trend_figure,
)


def _probs(labels):
    p = np.full((len(labels), 5), 0.025)
    for i, lab in enumerate(labels):
        p[i, AAMI.index(lab)] = 0.9
    return p


def test_beat_classes_are_drawn_per_class_only_inside_the_window():
    labels = ["N", "V", "N", "S", "V"]
    samples = np.array([100, 400, 700, 1000, 5000])
    fig = go.Figure()
    add_beat_classes(fig, samples, labels, _probs(labels), 360.0, slice(0, 3600), 1.0)
    by_name = {t.name.split()[0]: t for t in fig.data}
    assert sorted(by_name) == ["N", "S", "V"]
    assert list(by_name["V"].x) == pytest.approx([400 / 360])  # the V at 5000 is outside
    assert "V: 0.90" in by_name["V"].customdata[0]


def test_beat_table_rows_and_probabilities():
    labels = ["N", "V"]
    table = beat_table(np.array([360, 720]), labels, _probs(labels), 360.0)
    assert table["time (s)"].tolist() == [1.0, 2.0]
    assert table["class"].tolist() == labels and table["probability"].tolist() == [0.9, 0.9]
    assert table["p(V)"].tolist() == [0.025, 0.9]


def test_beat_table_of_a_lead_without_beats_is_empty_with_the_same_columns():
    empty = beat_table(np.zeros(0, dtype=np.int64), [], np.zeros((0, len(AAMI))), 360.0)
    full = beat_table(np.array([360]), ["N"], _probs(["N"]), 360.0)
    assert empty.empty and list(empty.columns) == list(full.columns)


def test_beat_table_marks_beats_in_stretches_without_regular_beats():
    labels = ["N", "V"]
    table = beat_table(np.array([360, 720]), labels, _probs(labels), 360.0, np.array([False, True]))
    assert table["in stretch without regular beats"].tolist() == [False, True]


def test_flat_saliency_shows_no_shading_and_never_nan():
    beat = np.sin(np.linspace(0, 3, 128)).astype(np.float32)
    fig = beat_saliency_figure(beat, np.zeros(128), 180.0, before_s=0.25)
    shading = np.asarray(fig.data[0].marker.color)
    assert np.all(shading == 0) and not np.isnan(shading).any()
    fig = beat_saliency_figure(beat, np.arange(128.0), 180.0, before_s=0.25, opacity=0.3)
    assert np.asarray(fig.data[0].marker.color).max() == 1.0 and fig.data[0].opacity == 0.3
    assert fig.data[1].x[0] == pytest.approx(-0.25)


def test_no_saliency_draws_the_beat_without_band_or_colour_bar():
    beat = np.sin(np.linspace(0, 3, 128)).astype(np.float32)
    fig = beat_saliency_figure(beat, None, 180.0, before_s=0.25)
    assert [trace.type for trace in fig.data] == ["scatter"]
    np.testing.assert_allclose(fig.data[0].y, beat)


def test_beat_views_show_the_second_lead_only_when_it_was_read():
    rng = np.random.default_rng(0)
    first, second = rng.normal(size=(3, 128)), rng.normal(size=(3, 128))
    probabilities = np.array([0.1, 0.0, 0.85, 0.05, 0.0])
    (only,) = beat_views(first, None, 1, 21.425, "V", probabilities, "MLII")
    np.testing.assert_array_equal(only[0], first[1])
    assert only[1] == "Beat 2 at 21.43 s, MLII: V (N 0.10, S 0.00, V 0.85, F 0.05, Q 0.00)"
    analysed, other = beat_views(first, second, 2, 3.0, "N", probabilities, "MLII", "V1")
    np.testing.assert_array_equal(analysed[0], first[2])
    np.testing.assert_array_equal(other[0], second[2])
    assert other[1] == "Same beat, lead V1"


def test_confusion_and_trend_figures_show_the_counts():
    cm = np.array([[5, 1], [0, 3]])
    fig = confusion_figure(cm, ["N", "V"], ["N", "V"])
    assert np.asarray(fig.data[0].text).tolist() == [[5, 1], [0, 3]]
    trend = hr_trend_figure([{"start_s": 0.0, "mean_bpm": 70.0}, {"start_s": 60.0, "mean_bpm": 75.0}])
    assert list(trend.data[0].x) == [0.0, 1.0] and list(trend.data[0].y) == [70.0, 75.0]
    gap = hr_trend_figure([{"start_s": 0.0, "mean_bpm": 70.0}, {"start_s": 60.0, "mean_bpm": None},
                           {"start_s": 120.0, "mean_bpm": 60.0}])
    assert list(gap.data[0].y) == [70.0, None, 60.0] and not gap.data[0].connectgaps  # no line across the gap


def test_beat_table_gives_how_many_networks_agree_after_the_probability():
    labels = ["N", "V", "S"]
    table = beat_table(np.array([360, 720, 1080]), labels, _probs(labels), 360.0, networks_agreeing=np.array([3, 2, 1]),
                       n_networks=3)
    assert table["networks agreeing (of 3)"].tolist() == [3, 2, 1]
    columns = list(table.columns)
    assert columns.index("networks agreeing (of 3)") == columns.index("probability") + 1
    assert "networks agreeing (of 3)" not in beat_table(np.array([360]), ["N"], _probs(["N"]), 360.0).columns
