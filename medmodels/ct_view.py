"""Drawing a CT slice: windowed image at true aspect ratio with a scale bar."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from .windowing import Window, apply_window


def scale_bar_length_mm(field_of_view_mm: float) -> float:
    """A round scale-bar length (mm) of roughly a fifth of the field of view."""
    for length in (100, 50, 20, 10, 5, 2, 1):
        if length <= field_of_view_mm / 4:
            return float(length)
    return 1.0


def ct_slice_figure(
    hu_slice: np.ndarray,
    pixel_spacing_mm: tuple[float, float],
    window: Window,
    *,
    invert: bool = False,
    title: str = "",
    spacing_known: bool = True,
) -> go.Figure:
    """A figure of one slice.

    Args:
        hu_slice: (rows, cols) in HU.
        pixel_spacing_mm: (row spacing, column spacing) in mm; the image is
            drawn with this aspect ratio and a scale bar in mm.
        window: display window.
        invert: MONOCHROME1 display.
        title: figure title.
        spacing_known: False when the file declared no pixel spacing; then
            the scale bar is labelled in pixels.
    """
    grey = apply_window(hu_slice, window, invert=invert)
    rows, cols = grey.shape
    row_mm, col_mm = pixel_spacing_mm if spacing_known else (1.0, 1.0)
    # Axes are in mm (dx/dy = pixel size), so anisotropic pixels keep their physical aspect.
    image = go.Image(source=png_data_uri(grey), dx=col_mm, dy=row_mm, x0=col_mm / 2, y0=row_mm / 2, hoverinfo="skip")
    fig = go.Figure(image)
    fig.update_layout(
        title=title,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        height=560,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x", scaleratio=1.0),
        plot_bgcolor="black",
        dragmode="pan",
    )
    _add_scale_bar(fig, rows * row_mm, cols * col_mm, "mm" if spacing_known else "px")
    return fig


def png_data_uri(pixels: np.ndarray) -> str:
    """A uint8 image, grey (rows, cols) or RGBA (rows, cols, 4), as a PNG ``data:`` URI for ``go.Image(source=...)``.

    The browser gets a slice as a lossless PNG (about 0.2 MB for a 512 × 512 CT slice) rather than as
    ``z``, an array of RGB triples that plotly writes out as 3.5 MB of JSON on every redraw (each slider move).
    Chromium draws both the same at every pixel centre.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L" if pixels.ndim == 2 else "RGBA").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _add_scale_bar(fig: go.Figure, height_mm: float, width_mm: float, unit: str) -> None:
    length = scale_bar_length_mm(width_mm)
    x1 = 0.95 * width_mm
    x0 = x1 - length
    y = 0.95 * height_mm
    fig.add_shape(type="line", x0=x0, x1=x1, y0=y, y1=y, line=dict(color="yellow", width=4))
    fig.add_annotation(x=(x0 + x1) / 2, y=y, yshift=12, text=f"{length:g} {unit}", showarrow=False,
                       font=dict(color="yellow", size=13), bgcolor="rgba(0,0,0,0.55)")  # legible on bright tissue
