import numpy as np
import plotly.graph_objects as go
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
    assert _decoded(image.source).shape == (100, 200) and _decoded(image.source).max() == 0


def _decoded(source: str) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    assert source.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def test_the_slice_travels_as_a_lossless_png_of_its_windowed_grey_levels_a_tenth_of_its_z_array():
    import plotly.io as pio

    from medmodels.windowing import apply_window

    hu = np.random.default_rng(0).normal(-600, 400, (512, 512)).astype(np.float32)
    hu[200:260, 100:300] = 40.0  # soft tissue: flat grey at the lung window
    image = ct_slice_figure(hu, (0.7, 0.7), PRESETS["Lung"]).data[0]
    assert np.array_equal(_decoded(image.source), apply_window(hu, PRESETS["Lung"]))  # every grey level exact
    as_z = len(pio.to_json(go.Image(z=np.repeat(apply_window(hu, PRESETS["Lung"])[:, :, None], 3, axis=2))))
    assert len(pio.to_json(image)) < as_z / 5  # noise compresses worst; a real slice is a twentieth (0.17 of 3.5 MB)


def test_the_lung_outline_is_a_transparent_png_with_only_its_pixels_coloured():
    from medmodels.ct_analysis_view import LUNG_OUTLINE, LUNG_OUTLINE_RGBA, analysis_figure, outline_rgba

    outline = np.zeros((40, 30), bool)
    outline[5, 3:9] = True
    rgba = outline_rgba(outline)
    assert (rgba[outline] == LUNG_OUTLINE_RGBA).all() and not rgba[~outline].any()
    fig = analysis_figure(np.zeros((40, 30), np.float32), (0.5, 1.0), PRESETS["Lung"], np.zeros((40, 30), np.float32),
                          outline, opacity=0.5)
    layer = next(t for t in fig.data if t.name == LUNG_OUTLINE)
    assert np.array_equal(_decoded(layer.source), rgba) and (layer.dx, layer.dy) == (1.0, 0.5)
