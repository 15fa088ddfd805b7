import numpy as np
import pytest

from medmodels.ct_view import ct_slice_figure, scale_bar_length_mm
from medmodels.windowing import PRESETS


def test_scale_bar_is_a_round_length_of_about_a_fifth_of_the_view():
    assert scale_bar_length_mm(360.0) == 50.0  # 512 px × 0.703 mm
    assert scale_bar_length_mm(85.0) == 20.0  # 128 px × 0.66 mm
    assert scale_bar_length_mm(3.0) == 1.0


def test_slice_figure_keeps_physical_aspect_and_draws_the_scale_bar():
    hu = np.full((100, 200), -2000.0, dtype=np.float32)
    fig = ct_slice_figure(hu, (1.4, 0.7), PRESETS["Lung"])
    image = fig.data[0]
    assert (image.dx, image.dy) == (0.7, 1.4)  # axes in mm: rows twice as tall as columns are wide
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1.0
    bar = fig.layout.shapes[0]
    assert bar.x1 - bar.x0 == pytest.approx(20.0)  # 200 px × 0.7 mm = 140 mm wide: a 20 mm bar
    assert fig.layout.annotations[0].text == "20 mm"
    assert fig.layout.annotations[0].bgcolor.startswith("rgba(0,0,0")  # yellow label on a dark box, legible on tissue
    assert fig.data[0].z.shape == (100, 200, 3) and fig.data[0].z.max() == 0
