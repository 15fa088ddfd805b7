"""Drawing a CT slice: windowed image at true aspect ratio with a scale bar."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

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
    row_mm, col_mm = pixel_spacing_mm
    fig = go.Figure(go.Image(z=np.repeat(grey[:, :, None], 3, axis=2), colormodel="rgb", hoverinfo="skip"))
    fig.update_layout(
        title=title,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        height=620,
        xaxis=dict(visible=False, range=[-0.5, cols - 0.5], constrain="domain"),
        # Rows may be spaced differently from columns: keep the physical aspect.
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", scaleratio=row_mm / col_mm, constrain="domain"),
        plot_bgcolor="black",
        dragmode="pan",
    )
    _add_scale_bar(fig, rows, cols, col_mm if spacing_known else 1.0, "mm" if spacing_known else "px")
    return fig


def _add_scale_bar(fig: go.Figure, rows: int, cols: int, col_mm: float, unit: str) -> None:
    length_mm = scale_bar_length_mm(cols * col_mm)
    length_px = length_mm / col_mm
    x1 = cols - 0.05 * cols
    x0 = x1 - length_px
    y = rows - 0.05 * rows
    fig.add_shape(type="line", x0=x0, x1=x1, y0=y, y1=y, line=dict(color="yellow", width=4))
    fig.add_annotation(x=(x0 + x1) / 2, y=y, yshift=12, text=f"{length_mm:g} {unit}", showarrow=False,
                       font=dict(color="yellow", size=13))
