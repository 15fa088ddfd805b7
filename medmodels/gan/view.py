"""Figures and tables for the Synthetic samples page (Plotly; no Streamlit here)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from medmodels.ecg_paper import strip_figure
from medmodels.gan import SYNTHETIC
from medmodels.windowing import Window, apply_window

TILE_GAP = 4
#: Beats per ECG strip: at 25 mm/s each beat keeps room for its label.
BEATS_PER_STRIP = 6


def tile(patches_hu: np.ndarray, window: Window, columns: int) -> np.ndarray:
    """Patches (n, h, w) HU → one windowed uint8 mosaic with ``TILE_GAP`` px mid-grey gaps."""
    n, h, w = patches_hu.shape
    rows = max(1, int(np.ceil(n / columns)))
    out = np.full((rows * (h + TILE_GAP) - TILE_GAP, columns * (w + TILE_GAP) - TILE_GAP), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + TILE_GAP):r * (h + TILE_GAP) + h, c * (w + TILE_GAP):c * (w + TILE_GAP) + w] = apply_window(patches_hu[i], window)
    return out


def patch_grid_figure(patches_hu: np.ndarray, captions: list[str], window: Window, columns: int = 8,
                      marker: str | None = SYNTHETIC, pixel_mm: float = 0.7) -> go.Figure:
    """A grid of HU patches in ``window``; every tile captioned (and marked ``marker`` when synthetic)."""
    n = len(patches_hu)
    columns = max(1, min(columns, n))
    mosaic = tile(np.asarray(patches_hu, np.float32), window, columns)
    fig = go.Figure(go.Image(z=np.repeat(mosaic[..., None], 3, axis=2), hoverinfo="skip"))
    size = patches_hu.shape[1] + TILE_GAP
    for i, caption in enumerate(captions):
        r, c = divmod(i, columns)
        text = f"{marker} · {caption}" if marker else caption
        fig.add_annotation(x=c * size + 2, y=r * size + 2, text=text, showarrow=False, xanchor="left", yanchor="top",
                           font=dict(size=9, color="#ffd000" if marker else "#9fe"), bgcolor="rgba(0,0,0,0.55)")
    rows = int(np.ceil(n / columns))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(margin=dict(l=0, r=0, t=24, b=0), height=int(24 + rows * 150),
                      title=dict(text=f"{patches_hu.shape[1] * pixel_mm:.1f} mm patches, window W{window.width:g}/L{window.level:g}",
                                 font=dict(size=12)))
    return fig


def beats_strip_figure(waveform_mv: np.ndarray, fs: float, r_index: int, labels: list[str],
                       marker: str | None = SYNTHETIC, slots: int = BEATS_PER_STRIP) -> go.Figure:
    """Beats (n, length) mV laid end to end on ECG paper (25 mm/s, 10 mm/mV), each labelled at its R peak.

    The paper is ``slots`` beats long whatever n is (up to n), so that every strip on the page
    has the same time scale: a short last strip is not stretched to the full width.
    """
    beats = np.asarray(waveform_mv, np.float32)
    length = beats.shape[1]
    signal = beats.reshape(-1)
    r_samples = np.arange(len(beats)) * length + r_index
    names = [f"{marker} {c}" if marker else c for c in labels]
    fig = strip_figure(signal, fs, 0.0, max(slots, len(beats)) * length / fs,
                       lead_name=f"{marker or 'REAL'} beats (MLII-like)", beat_samples=r_samples, beat_labels=names)
    for k in range(1, len(beats)):  # beat boundaries: these are separate beats, not a rhythm strip
        fig.add_vline(x=k * length / fs, line=dict(color="#888", width=1, dash="dot"))
    return fig


def beats_strip_figures(waveform_mv: np.ndarray, fs: float, r_index: int, labels: list[str],
                        marker: str | None = SYNTHETIC) -> list[go.Figure]:
    """:func:`beats_strip_figure` in strips of at most BEATS_PER_STRIP beats."""
    return [beats_strip_figure(waveform_mv[i:i + BEATS_PER_STRIP], fs, r_index, labels[i:i + BEATS_PER_STRIP], marker)
            for i in range(0, len(waveform_mv), BEATS_PER_STRIP)]


def rr_table_rows(rr: np.ndarray, names: tuple[str, ...], labels: list[str], marker: str = SYNTHETIC) -> list[dict]:
    """RR context of each beat as table rows."""
    return [{"beat": i, "marked": marker, "class": labels[i], **{n: round(float(v), 3) for n, v in zip(names, rr[i])}}
            for i in range(len(rr))]
