import numpy as np

from medmodels.windowing import PRESETS, Window, apply_window


def test_presets_have_the_standard_width_and_level():
    assert {k: (w.width, w.level) for k, w in PRESETS.items()} == {
        "Lung": (1500, -600), "Mediastinum": (350, 50), "Bone": (2500, 480), "Brain": (80, 40),
    }


def test_window_maps_edges_to_black_and_white_and_level_to_mid_grey():
    lung = PRESETS["Lung"]
    grey = apply_window(np.array([-2000.0, lung.low, lung.level, lung.high, 3000.0]), lung)
    assert grey.tolist() == [0, 0, 128, 255, 255]
    assert apply_window(np.array([lung.low]), lung, invert=True).tolist() == [255]


def test_zero_width_and_nan_do_not_produce_nan_and_input_is_untouched():
    hu = np.array([[-10.0, 0.0, np.nan, 10.0]], dtype=np.float32)
    before = hu.copy()
    grey = apply_window(hu, Window(0, 0))
    assert grey.dtype == np.uint8 and grey.tolist() == [[0, 128, 0, 255]]
    np.testing.assert_array_equal(hu, before)
