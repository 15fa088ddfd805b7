"""Drawing ECGs on standard paper: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major grid.

The browser receives at most a few thousand points per trace: a strip shows
a time window, and any window with more samples than ``MAX_POINTS`` is reduced
to a min/max envelope that keeps every peak (QRS complexes are not lost the
way plain decimation would lose them).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

PAPER_SPEED_MM_PER_S = 25.0
GAIN_MM_PER_MV = 10.0
#: y pixels per mV over x pixels per s, so that 1 mm is square on screen.
ASPECT_Y_OVER_X = GAIN_MM_PER_MV / PAPER_SPEED_MM_PER_S
MAJOR_S, MINOR_S = 5 / PAPER_SPEED_MM_PER_S, 1 / PAPER_SPEED_MM_PER_S  # 0.2 s, 0.04 s
MAJOR_MV, MINOR_MV = 5 / GAIN_MM_PER_MV, 1 / GAIN_MM_PER_MV  # 0.5 mV, 0.1 mV
MAX_POINTS = 8000
PAPER_COLOUR, MAJOR_COLOUR, MINOR_COLOUR = "#fff7f7", "#f2a2a2", "#fbdcdc"

#: Standard 12-lead print layout: rows of (lead, lead, lead, lead), 2.5 s each.
TWELVE_LEAD_LAYOUT = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))


def minmax_envelope(y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a 1-D signal to 2 points per bin (its min and max, in time order).

    Args:
        y: samples (n,).
        n_bins: number of bins; when ``n <= 2 * n_bins`` the input is returned.

    Returns:
        (index, value): sample indices (float, for plotting) and values, each
        at most ``2 * n_bins`` long.
    """
    y = np.asarray(y)
    n = y.shape[0]
    if n <= 2 * n_bins:
        return np.arange(n, dtype=np.float64), y
    edges = np.linspace(0, n, n_bins + 1).astype(np.int64)
    starts = edges[:-1]
    filled = np.where(np.isnan(y), np.nanmean(y) if np.isfinite(np.nanmean(y)) else 0.0, y)
    mins = np.minimum.reduceat(filled, starts)
    maxs = np.maximum.reduceat(filled, starts)
    argmin = np.array([s + np.argmin(filled[s:e]) for s, e in zip(starts, edges[1:])])
    argmax = np.array([s + np.argmax(filled[s:e]) for s, e in zip(starts, edges[1:])])
    first_is_min = argmin <= argmax
    idx = np.empty(2 * n_bins)
    val = np.empty(2 * n_bins, dtype=filled.dtype)
    idx[0::2] = np.where(first_is_min, argmin, argmax)
    idx[1::2] = np.where(first_is_min, argmax, argmin)
    val[0::2] = np.where(first_is_min, mins, maxs)
    val[1::2] = np.where(first_is_min, maxs, mins)
    return idx, val


def window_samples(n_samples: int, fs: float, start_s: float, length_s: float) -> slice:
    """Samples of a window of ``length_s`` seconds from ``start_s`` (start clipped into the record)."""
    start = int(np.clip(round(start_s * fs), 0, max(n_samples - 1, 0)))
    stop = int(np.clip(start + round(length_s * fs), start + 1, n_samples))
    return slice(start, stop)


def paper_axes(fig: go.Figure, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
    grid = dict(showgrid=True, gridcolor=MAJOR_COLOUR, gridwidth=1, zeroline=False,
                minor=dict(showgrid=True, gridcolor=MINOR_COLOUR, gridwidth=0.5))
    # Grid lines follow ticks: a tick every major square, a label every 1 s / 1 mV.
    fig.update_xaxes(range=list(x_range), dtick=MAJOR_S, minor_dtick=MINOR_S, tick0=0, ticklabelstep=5,
                     title_text="time (s)", **grid)
    fig.update_yaxes(range=list(y_range), dtick=MAJOR_MV, minor_dtick=MINOR_MV, tick0=0, ticklabelstep=2,
                     scaleanchor="x", scaleratio=ASPECT_Y_OVER_X, title_text="mV", **grid)
    fig.update_layout(plot_bgcolor=PAPER_COLOUR, paper_bgcolor="white", dragmode="pan",
                      margin=dict(l=50, r=10, t=30, b=40), showlegend=False)


def _height_for(x_span_s: float, y_span_mv: float, width_px: float = 1100) -> int:
    """Figure height that shows the paper at its true aspect at a typical width."""
    plot_w = width_px - 60
    return int(np.clip(plot_w * (y_span_mv * GAIN_MM_PER_MV) / (x_span_s * PAPER_SPEED_MM_PER_S) + 70, 180, 900))


def _y_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.5, 1.5
    low = np.floor((finite.min() - 0.25) / MAJOR_MV) * MAJOR_MV
    high = np.ceil((finite.max() + 0.25) / MAJOR_MV) * MAJOR_MV
    return float(min(low, -0.5)), float(max(high, 0.5))


def strip_figure(
    signal_mv: np.ndarray,
    fs: float,
    start_s: float,
    length_s: float,
    *,
    lead_name: str = "",
    beat_samples: np.ndarray | None = None,
    beat_labels: list[str] | tuple[str, ...] | None = None,
    class_band: bool = False,
    second_lead: tuple[str, np.ndarray] | None = None,
) -> go.Figure:
    """One lead on ECG paper over [start_s, start_s + length_s), optionally with a second lead below it.

    Args:
        signal_mv: one lead (samples,) in mV.
        fs: sampling frequency (Hz).
        start_s, length_s: the time window (s).
        lead_name: shown in the corner.
        beat_samples, beat_labels: reference (or detected) beats to mark on
            the strip; only those in the window are sent.
        class_band: add a band of ``CLASS_BAND_MV`` below the trace for the
            model's class letters (:func:`class_band_y`), so they never sit on it.
        second_lead: ``(name, (samples,) mV)``, another lead of the same record,
            drawn below the first on the same paper and time axis (as a printout
            stacks leads), so each beat can be read in both; its hover gives its
            own mV, and the mV tick labels are hidden, since they hold for the
            first lead only.
    """
    window = window_samples(signal_mv.shape[0], fs, start_s, length_s)
    segment = signal_mv[window]
    idx, values = minmax_envelope(segment, MAX_POINTS // 2)
    times = (window.start + idx) / fs
    fig = go.Figure(go.Scattergl(x=times, y=values, mode="lines", line=dict(color="black", width=1.2),
                                 hovertemplate="%{x:.3f} s<br>%{y:.2f} mV<extra></extra>", name=lead_name))
    y_range = _y_range(values)
    if class_band:
        y_range = (y_range[0] - CLASS_BAND_MV, y_range[1])
    if beat_samples is not None and beat_labels is not None:
        _add_beat_labels(fig, signal_mv, fs, window, beat_samples, beat_labels, y_range[1] - 0.2)
    band_y = y_range[0] + CLASS_BAND_MV / 2
    if second_lead is not None:
        y_range = (_add_lower_lead(fig, *second_lead, fs, window, y_range[0]), y_range[1])
    x_range = (window.start / fs, window.start / fs + length_s)
    paper_axes(fig, x_range, y_range)
    if second_lead is not None:
        fig.update_yaxes(showticklabels=False, title_text="")
    # Above the paper's left corner: inside it, reference labels (top) and class markers (bottom) would hit it.
    fig.add_annotation(x=0, y=1, xref="paper", yref="paper", xanchor="left", yanchor="bottom", text=lead_name,
                       showarrow=False, font=dict(size=13))
    fig.update_layout(height=_height_for(length_s, y_range[1] - y_range[0]),
                      meta={"class_band_y": band_y} if class_band else None)
    return fig


def _add_lower_lead(fig: go.Figure, name: str, signal_mv: np.ndarray, fs: float, window: slice,
                    top_mv: float) -> float:
    """Draw ``signal_mv[window]`` below ``top_mv`` on ``fig`` (offset by whole large squares); return its bottom."""
    idx, values = minmax_envelope(np.asarray(signal_mv)[window], MAX_POINTS // 2)
    low, high = _y_range(values)
    offset = top_mv - high  # both are whole large squares, so the grid stays aligned to the second lead's 0 mV
    fig.add_trace(go.Scattergl(x=(window.start + idx) / fs, y=values + offset, mode="lines", customdata=values,
                               line=dict(color="black", width=1.2), name=name,
                               hovertemplate=f"{name}<br>%{{x:.3f}} s<br>%{{customdata:.2f}} mV<extra></extra>"))
    fig.add_annotation(x=0, y=top_mv, xref="paper", yref="y", xanchor="left", yanchor="top", text=name,
                       showarrow=False, font=dict(size=13), bgcolor=PAPER_COLOUR)
    return offset + low


#: Height (mV) of the band below the trace that holds the model's class letters: one large square.
CLASS_BAND_MV = 0.5


def class_band_y(fig: go.Figure) -> float:
    """The height (mV) at which class letters sit in a strip drawn with ``class_band=True``: the band's middle
    (below the first lead, above a second one)."""
    return float(fig.layout.meta["class_band_y"])


def _add_beat_labels(fig, signal_mv, fs, window, beat_samples, beat_labels, y_text) -> None:
    samples = np.asarray(beat_samples)
    inside = (samples >= window.start) & (samples < window.stop)
    if not inside.any():
        return
    labels = [str(label) for label, keep in zip(beat_labels, inside) if keep]
    fig.add_trace(go.Scatter(x=samples[inside] / fs, y=np.full(int(inside.sum()), y_text), mode="text",
                             text=labels, textfont=dict(color="#1f4e9c", size=12),
                             hovertemplate="%{text} at %{x:.2f} s<extra>reference</extra>"))


def twelve_lead_figure(signal_mv: np.ndarray, fs: float, lead_names: tuple[str, ...], start_s: float = 0.0,
                       *, class_band: bool = False) -> go.Figure:
    """The standard 12-lead print: 3 rows × 4 columns of 2.5 s, plus a 10 s lead II rhythm strip.

    Leads are matched by name case-insensitively (``ii`` = ``II``). Rows are
    stacked 3 mV apart on one paper, as on a printed ECG. Time is the
    record's own (s from its start), so beats can be marked by their sample
    times; ``class_band`` adds a band under the rhythm strip for the model's
    class letters (:func:`class_band_y`).
    """
    lookup = {name.lower(): i for i, name in enumerate(lead_names)}
    row_gap_mv, column_s = 3.0, 2.5
    fig = go.Figure()
    rows = list(TWELVE_LEAD_LAYOUT) + [("II",) * 4]
    for row, leads in enumerate(rows):
        offset = -row * row_gap_mv
        for column, lead in enumerate(leads):
            if lead.lower() not in lookup:
                continue
            rhythm = row == len(rows) - 1
            t0 = start_s + (0.0 if rhythm else column * column_s)
            length = 4 * column_s if rhythm else column_s
            window = window_samples(signal_mv.shape[0], fs, t0, length)
            idx, values = minmax_envelope(signal_mv[window, lookup[lead.lower()]], 1500)
            fig.add_trace(go.Scattergl(x=(window.start + idx) / fs, y=values + offset, mode="lines",
                                       line=dict(color="black", width=1), name=lead,
                                       hovertemplate=f"{lead}<br>%{{customdata:.2f}} mV<extra></extra>",
                                       customdata=values))
            fig.add_annotation(x=t0 + 0.05, y=offset + 1.1, text=f"<b>{lead}</b>", showarrow=False,
                               xanchor="left", font=dict(size=12))
            if rhythm:
                break
    y_range = (-(len(rows) - 1) * row_gap_mv - 1.5 - (CLASS_BAND_MV if class_band else 0.0), 1.5)
    paper_axes(fig, (start_s, start_s + 4 * column_s), y_range)
    fig.update_yaxes(showticklabels=False, title_text="")
    fig.update_layout(height=_height_for(4 * column_s, y_range[1] - y_range[0]),
                      meta={"class_band_y": y_range[0] + CLASS_BAND_MV / 2} if class_band else None)
    return fig


def overview_figure(signal_mv: np.ndarray, fs: float, start_s: float, length_s: float) -> go.Figure:
    """The whole record as a min/max envelope with the displayed window shaded."""
    idx, values = minmax_envelope(signal_mv, 1000)
    fig = go.Figure(go.Scattergl(x=idx / fs, y=values, mode="lines", line=dict(color="#555", width=0.8),
                                 hoverinfo="skip"))
    fig.add_vrect(x0=start_s, x1=start_s + length_s, fillcolor="#e4572e", opacity=0.25, line_width=0)
    fig.update_layout(height=110, margin=dict(l=50, r=10, t=5, b=25), showlegend=False,
                      xaxis=dict(title=None, range=[0, signal_mv.shape[0] / fs]),
                      yaxis=dict(visible=False), plot_bgcolor="white")
    return fig
