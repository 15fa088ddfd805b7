"""Drawing detector results on a CT slice: probability heat map, lung outline, zoomed Grad-CAM view.

Computing the heat map (:func:`probability_map`) is separate from drawing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .ct_view import ct_slice_figure, png_data_uri
from .windowing import Window

#: Transparent at 0 so the CT shows through where the detector sees nothing.
HEAT_COLOURSCALE = [[0.0, "rgba(255,255,0,0)"], [0.2, "rgba(255,200,0,0.5)"], [0.6, "rgba(255,90,0,0.8)"],
                    [1.0, "rgba(220,0,0,0.95)"]]


def probability_map(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, diameters_mm: np.ndarray,
                    probabilities: np.ndarray, lung: np.ndarray | None = None,
                    pixel_mm: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """A per-pixel nodule-probability map: each candidate a Gaussian of its size, peak = its probability.

    Args:
        shape: (rows, cols) of the slice.
        rows, cols: (k,) candidate centres (pixels).
        diameters_mm: (k,) candidate diameters in mm.
        probabilities: (k,) in [0, 1].
        lung: optional bool mask; the map is zero outside it.
        pixel_mm: (row, col) pixel spacing; each axis gets its own width in pixels, so a blob is
            round in mm on non-square pixels.

    Returns:
        float32 (rows, cols) in [0, 1]; the maximum over candidates, not a sum.
    """
    heat = np.zeros(shape, dtype=np.float32)
    grid_r, grid_c = np.ogrid[: shape[0], : shape[1]]
    for r, c, d, p in zip(rows, cols, diameters_mm, probabilities):
        sigma_r, sigma_c = (max(float(d) / 2.0 / float(mm), 2.0) for mm in pixel_mm)
        half_r, half_c = int(3 * sigma_r) + 1, int(3 * sigma_c) + 1
        r0, r1 = max(int(r) - half_r, 0), min(int(r) + half_r + 1, shape[0])
        c0, c1 = max(int(c) - half_c, 0), min(int(c) + half_c + 1, shape[1])
        if r0 >= r1 or c0 >= c1:
            continue
        blob = p * np.exp(-((grid_r[r0:r1] - r) ** 2 / (2 * sigma_r**2) + (grid_c[:, c0:c1] - c) ** 2 / (2 * sigma_c**2)))
        heat[r0:r1, c0:c1] = np.maximum(heat[r0:r1, c0:c1], blob)
    if lung is not None:
        heat = np.where(lung, heat, 0.0).astype(np.float32)
    return heat


#: Name of the slice figure's lung-outline layer, drawn faint green.
LUNG_OUTLINE = "lung outline"
LUNG_OUTLINE_RGBA = (64, 192, 87, 115)  # #40c057 at 45 % opacity


def outline_rgba(outline: np.ndarray) -> np.ndarray:
    """uint8 (rows, cols, 4): the outline's pixels in LUNG_OUTLINE_RGBA, every other pixel transparent.

    Sent as a PNG (a few kB) instead of a heat map of a 512 × 512 float array (about 1.2 MB of JSON per redraw).
    """
    rgba = np.zeros((*np.shape(outline), 4), dtype=np.uint8)
    rgba[np.asarray(outline, dtype=bool)] = LUNG_OUTLINE_RGBA
    return rgba


#: Candidates nearer than this (mm) share one label on the slice image: at the full-slice view a label is about
#: 13 mm wide, so their own labels would overlap.
LABEL_GROUP_MM = 12.0


def grouped_labels(x_mm: np.ndarray, y_mm: np.ndarray, labels: list[str], min_gap_mm: float = LABEL_GROUP_MM) -> list[str]:
    """Labels to draw, strongest first: a candidate within ``min_gap_mm`` of an earlier labelled one adds its
    label to that one's (``"#7 #8"``) and draws none of its own."""
    shown = list(labels)
    anchors: list[int] = []
    for i in range(len(labels)):
        near = [a for a in anchors if np.hypot(x_mm[i] - x_mm[a], y_mm[i] - y_mm[a]) < min_gap_mm]
        if near:
            shown[near[0]] += f" {labels[i]}"
            shown[i] = ""
        else:
            anchors.append(i)
    return shown


def analysis_figure(hu_slice: np.ndarray, spacing_mm: tuple[float, float], window: Window, heat: np.ndarray,
                    outline: np.ndarray, *, opacity: float, title: str = "",
                    candidates: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
                    references: Sequence[tuple[float, float, float]] = ()) -> go.Figure:
    """The slice with the heat map (opacity-controlled, colour bar), a faint lung outline and candidate labels.

    ``references``: (row, col, radius mm) of reference nodules on this slice, drawn as dashed yellow circles.
    """
    fig = ct_slice_figure(hu_slice, spacing_mm, window, title=title)
    row_mm, col_mm = spacing_mm
    rows, cols = heat.shape
    x = (np.arange(cols) + 0.5) * col_mm
    y = (np.arange(rows) + 0.5) * row_mm
    fig.add_trace(go.Image(source=png_data_uri(outline_rgba(outline)), dx=col_mm, dy=row_mm, x0=col_mm / 2,
                           y0=row_mm / 2, hoverinfo="skip", name=LUNG_OUTLINE))
    fig.add_trace(go.Heatmap(x=x, y=y, z=heat, zmin=0, zmax=1, colorscale=HEAT_COLOURSCALE, opacity=opacity,
                             colorbar=dict(title="nodule<br>probability", thickness=14, len=0.7), hoverinfo="skip"))
    fig.add_trace(click_targets(hu_slice, heat, spacing_mm))
    if candidates is not None:
        c_rows, c_cols, labels = candidates
        x_mm, y_mm = (np.asarray(c_cols) + 0.5) * col_mm, (np.asarray(c_rows) + 0.5) * row_mm
        # unselected: a click on the slice selects one click target, which would otherwise dim these markers
        fig.add_trace(go.Scatter(x=x_mm, y=y_mm, mode="markers+text", text=grouped_labels(x_mm, y_mm, list(labels)),
                                 hovertext=list(labels), textposition="top right", textfont=dict(color="cyan", size=12),
                                 marker=dict(symbol="circle-open", size=18, color="cyan", line=dict(width=2)),
                                 unselected=dict(marker=dict(opacity=1), textfont=dict(color="cyan")),
                                 hovertemplate="%{hovertext}<extra></extra>", showlegend=False))
    for ref_row, ref_col, radius_mm in references:
        x0, y0 = (ref_col + 0.5) * col_mm, (ref_row + 0.5) * row_mm
        fig.add_shape(type="circle", x0=x0 - radius_mm, x1=x0 + radius_mm, y0=y0 - radius_mm, y1=y0 + radius_mm,
                      line=dict(color="yellow", width=2, dash="dash"))
    return fig


#: Name of the slice figure's click-target trace (:func:`click_targets`).
CLICK_TARGETS = "click to zoom"
#: Click targets lie on a grid at least this far apart (mm) and at most CLICK_GRID_MAX_SIDE per side: a finer grid
#: would add payload to every redraw without a visibly better aim at a 44.8 mm zoom field.
CLICK_GRID_MIN_MM = 2.0
CLICK_GRID_MAX_SIDE = 128


def click_grid(shape: tuple[int, int], spacing_mm: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (rows, cols), int64 (k,), of the points a click on the slice figure can land on.

    A regular grid over the whole slice, offset by half a step from its edges, with steps of at least
    CLICK_GRID_MIN_MM and at most CLICK_GRID_MAX_SIDE points along either axis.
    """
    axes = []
    for n, mm in zip(shape, spacing_mm):
        step = max(int(np.ceil(CLICK_GRID_MIN_MM / float(mm))), int(np.ceil(n / CLICK_GRID_MAX_SIDE)), 1)
        axes.append(np.arange(step // 2, n, step))
    rows, cols = np.meshgrid(*axes, indexing="ij")
    return rows.ravel(), cols.ravel()


def click_targets(hu_slice: np.ndarray, heat: np.ndarray, spacing_mm: tuple[float, float]) -> go.Scattergl:
    """Invisible points over the slice that make a click on it a Streamlit point selection.

    Plotly selects points of scatter traces, not pixels of images or heat maps, so the figure carries a grid
    (:func:`click_grid`) of transparent markers; the one clicked shows as a cyan dot. Their hover gives the
    pixel, its HU and the heat map's nodule probability there (the heat map's own hover is off: the nearest
    target would always hide it).
    """
    rows, cols = click_grid(heat.shape, spacing_mm)
    row_mm, col_mm = spacing_mm
    data = np.stack([rows, cols, hu_slice[rows, cols], heat[rows, cols]], axis=1).astype(np.float32)
    return go.Scattergl(x=((cols + 0.5) * col_mm).astype(np.float32), y=((rows + 0.5) * row_mm).astype(np.float32),
                        mode="markers", name=CLICK_TARGETS, showlegend=False, customdata=data,
                        marker=dict(size=8, color="cyan", opacity=0.0),
                        selected=dict(marker=dict(opacity=1.0, size=9)), unselected=dict(marker=dict(opacity=0.0)),
                        hovertemplate="row %{customdata[0]:.0f}, col %{customdata[1]:.0f}<br>%{customdata[2]:.0f} HU · "
                                      "nodule probability %{customdata[3]:.2f}<extra>click to zoom</extra>")


#: Grad-CAM colours, distinct from the probability map's: transparent where the map is near 0 so the anatomy under a
#: low-attribution region stays readable (a uniform tint over the whole patch hid it).
CAM_COLOURSCALE = [[0.0, "rgba(40,60,200,0)"], [0.15, "rgba(40,90,230,0.15)"], [0.4, "rgba(20,200,220,0.55)"],
                   [0.7, "rgba(250,200,30,0.8)"], [1.0, "rgba(220,20,20,0.95)"]]


def zoom_figure(patch_hu: np.ndarray, cam: np.ndarray, window: Window, *, opacity: float, title: str = "",
                pixel_mm: float = 0.7) -> go.Figure:
    """A patch (at the model's spacing) with its Grad-CAM map over it, a scale bar and a cross on its centre.

    Args:
        patch_hu: (n, n) in HU at ``pixel_mm`` spacing, centred on the scored point.
        cam: (n, n) Grad-CAM in [0, 1]; NaN is drawn as 0.
        window: display window.
        opacity: of the Grad-CAM layer, in [0, 1].
    """
    fig = ct_slice_figure(patch_hu, (pixel_mm, pixel_mm), window, title=title)
    size = patch_hu.shape[0]
    axis = (np.arange(size) + 0.5) * pixel_mm
    cam = np.nan_to_num(np.asarray(cam, dtype=np.float32))
    fig.add_trace(go.Heatmap(x=axis, y=axis, z=cam, zmin=0, zmax=1, colorscale=CAM_COLOURSCALE, opacity=opacity,
                             colorbar=dict(title="Grad-CAM", thickness=12, len=0.8),
                             hovertemplate="Grad-CAM %{z:.2f}<extra></extra>"))
    # The detector scored the patch as a whole; the cross marks the point it is centred on.
    centre = size * pixel_mm / 2
    fig.add_trace(go.Scatter(x=[centre], y=[centre], mode="markers", hoverinfo="skip", showlegend=False,
                             marker=dict(symbol="cross-thin-open", size=14, color="cyan", line=dict(width=1.5))))
    fig.update_layout(height=440, width=560, dragmode=False)
    return fig
