import numpy as np

from medmodels.ct_analysis_view import CLICK_TARGETS, analysis_figure, click_grid, click_targets, probability_map, zoom_figure
from medmodels.windowing import PRESETS


def test_probability_map_peaks_at_candidates_with_their_probability():
    heat = probability_map((100, 100), np.array([20, 70]), np.array([30, 60]), np.array([10, 6]), np.array([0.9, 0.4]))
    assert heat[20, 30] == np.float32(0.9) and heat[70, 60] == np.float32(0.4)
    assert heat.max() <= 1.0 and heat[0, 99] < 1e-6


def test_probability_map_blob_is_round_in_mm_on_non_square_pixels():
    heat = probability_map((200, 200), np.array([100]), np.array([100]), np.array([12.0]), np.array([1.0]),
                           pixel_mm=(0.6, 0.8))
    above_half_mm = [np.count_nonzero(heat[100, :] >= 0.5) * 0.8, np.count_nonzero(heat[:, 100] >= 0.5) * 0.6]
    assert abs(above_half_mm[0] - above_half_mm[1]) <= 0.8  # within one pixel; it was 10.2 × 14.4 mm
    assert 12 < above_half_mm[0] < 16  # FWHM of sigma = 6 mm: 14.1 mm


def test_probability_map_is_zero_outside_the_lung_and_empty_without_candidates():
    lung = np.zeros((50, 50), bool)
    lung[:, :25] = True
    heat = probability_map((50, 50), np.array([25]), np.array([25]), np.array([8]), np.array([1.0]), lung)
    assert heat[25, 30] == 0 and heat[25, 20] > 0
    empty = probability_map((50, 50), np.array([]), np.array([]), np.array([]), np.array([]))
    assert not empty.any() and not np.isnan(empty).any()


def test_figures_carry_opacity_and_colour_bars():
    hu = np.full((64, 64), -800.0, np.float32)
    heat = np.zeros((64, 64), np.float32)
    outline = np.zeros((64, 64), bool)
    fig = analysis_figure(hu, (0.7, 0.7), PRESETS["Lung"], heat, outline, opacity=0.3,
                          candidates=(np.array([10.0]), np.array([12.0]), ["#1"]))
    heat_trace = fig.data[2]
    assert heat_trace.opacity == 0.3 and heat_trace.colorbar.title.text.startswith("nodule")
    zoom = zoom_figure(hu, np.full((64, 64), np.nan), PRESETS["Lung"], opacity=0.6)
    assert not np.isnan(np.asarray(zoom.data[1].z)).any() and zoom.data[1].opacity == 0.6


def test_zoom_marks_the_scored_centre_has_a_scale_bar_and_shows_anatomy_where_grad_cam_is_low():
    hu = np.full((64, 64), -800.0, np.float32)
    cam = np.zeros((64, 64), np.float32)
    cam[28:36, 28:36] = 1.0
    zoom = zoom_figure(hu, cam, PRESETS["Lung"], opacity=0.5, pixel_mm=0.7)
    cross = zoom.data[-1]
    assert (cross.x[0], cross.y[0]) == (22.4, 22.4)  # centre of a 64 × 0.7 mm = 44.8 mm field
    assert [a.text for a in zoom.layout.annotations] == ["10 mm"]
    colours = zoom.data[1].colorscale
    assert colours[0][1].endswith(",0)") and colours[-1][1] != colours[0][1]  # zero attribution is fully transparent


def test_nearby_candidates_share_one_label_on_the_strongest_and_keep_their_own_hover():
    from medmodels.ct_analysis_view import grouped_labels

    x = np.array([100.0, 104.0, 50.0, 103.0, 61.0])
    y = np.array([100.0, 102.0, 50.0, 95.0, 50.0])
    assert grouped_labels(x, y, ["#1", "#2", "#3", "#4", "#5"]) == ["#1 #2 #4", "", "#3 #5", "", ""]  # 11 mm apart: grouped
    assert grouped_labels(x, y, ["#1", "#2", "#3", "#4", "#5"], min_gap_mm=1.0) == ["#1", "#2", "#3", "#4", "#5"]
    hu = np.full((64, 64), -800.0, np.float32)
    fig = analysis_figure(hu, (1.0, 1.0), PRESETS["Lung"], np.zeros((64, 64), np.float32), np.zeros((64, 64), bool),
                          opacity=0.3, candidates=(np.array([10.0, 12.0]), np.array([10.0, 11.0]), ["#1", "#2"]))
    markers = fig.data[-1]
    assert list(markers.text) == ["#1 #2", ""] and list(markers.hovertext) == ["#1", "#2"]


def test_click_grid_reaches_every_pixel_within_half_a_step_at_2_mm_or_128_per_side():
    for shape, spacing, steps in [((512, 512), (0.703125, 0.703125), (4, 4)),  # 128 per side caps LIDC's 3-pixel 2 mm
                                  ((100, 60), (0.5, 1.4), (4, 2)),              # 2 mm on each axis of its own
                                  ((3, 2), (5.0, 5.0), (1, 1))]:                # coarse pixels: every one
        rows, cols = click_grid(shape, spacing)
        for axis, (values, n, step) in enumerate(zip((rows, cols), shape, steps)):
            grid = np.unique(values)
            assert np.all(np.diff(grid) == step) and grid.size <= 128, (shape, axis)
            reach = np.abs(np.arange(n)[:, None] - grid[None, :]).min(axis=1)
            assert reach.max() <= step // 2 + (step % 2), (shape, axis)  # nearest target within half a step
        assert rows.size == np.unique(rows).size * np.unique(cols).size


def test_click_targets_carry_each_points_pixel_hu_and_probability_and_are_invisible_until_clicked():
    hu = np.arange(40 * 30, dtype=np.float32).reshape(40, 30) - 1000
    heat = np.zeros((40, 30), np.float32)
    heat[14, 9] = 0.75  # a click target: rows 2, 6, 10, 14 … (2 mm), columns 1, 3, 5 …
    targets = click_targets(hu, heat, (0.5, 1.0))
    data = np.asarray(targets.customdata)
    rows, cols = data[:, 0].astype(int), data[:, 1].astype(int)
    assert np.array_equal(data[:, 2], hu[rows, cols]) and np.array_equal(data[:, 3], heat[rows, cols])
    assert (0.75 in data[:, 3]) and np.allclose(targets.x, (cols + 0.5) * 1.0) and np.allclose(targets.y, (rows + 0.5) * 0.5)
    assert targets.marker.opacity == 0 and targets.selected.marker.opacity == 1  # the clicked one shows
    fig = analysis_figure(hu, (0.5, 1.0), PRESETS["Lung"], heat, np.zeros((40, 30), bool), opacity=0.5,
                          candidates=(np.array([12]), np.array([8]), ["#1"]))
    assert [t.name for t in fig.data].count(CLICK_TARGETS) == 1
    assert fig.data[2].hoverinfo == "skip"  # the targets' hover gives the probability; the heat map's would be hidden
    assert fig.data[-1].unselected.marker.opacity == 1  # a click does not dim the candidate markers
