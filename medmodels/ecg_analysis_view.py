"""Drawing beat-classification results: class markers, HR trend, beat table, saliency, agreement.

Computing (``medmodels.ecg``) is separate from drawing (this module): every
function here takes plain arrays and returns a figure or a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .ecg_paper import MAJOR_MV, MINOR_MV, paper_axes

AAMI = ("N", "S", "V", "F", "Q")
CLASS_NAMES = {
    "N": "normal / bundle-branch block",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "unclassifiable",
}
CLASS_COLOURS = {"N": "#2b8a3e", "S": "#1971c2", "V": "#e03131", "F": "#e8590c", "Q": "#868e96"}


def add_beat_classes(
    fig: go.Figure,
    beat_samples: np.ndarray,
    labels: list[str] | tuple[str, ...],
    probabilities: np.ndarray,
    fs: float,
    window: slice,
    y_mv: float,
) -> None:
    """Mark each beat in ``window`` with its class letter, coloured, probabilities on hover.

    Args:
        beat_samples: (n,) sample indices at ``fs``.
        labels: n class letters.
        probabilities: (n, 5) in AAMI order N, S, V, F, Q.
        y_mv: height of the markers on the strip (mV).
    """
    samples = np.asarray(beat_samples)
    inside = np.flatnonzero((samples >= window.start) & (samples < window.stop))
    for cls in AAMI:
        chosen = [i for i in inside if labels[i] == cls]
        if not chosen:
            continue
        probs = np.asarray(probabilities)[chosen]
        hover = ["<br>".join(f"{c}: {p:.2f}" for c, p in zip(AAMI, row)) for row in probs]
        # Letters, not only colours: red and green (V, N) look alike to many colour-blind readers.
        fig.add_trace(go.Scatter(
            x=samples[chosen] / fs, y=np.full(len(chosen), y_mv), mode="text",
            text=[f"<b>{cls}</b>"] * len(chosen), textposition="middle center",
            textfont=dict(color=CLASS_COLOURS[cls], size=13), customdata=hover, name=f"{cls} ({CLASS_NAMES[cls]})",
            hovertemplate="%{x:.2f} s<br>%{customdata}<extra>%{fullData.name}</extra>",
        ))


def hr_trend_figure(trend: list[dict]) -> go.Figure:
    """Mean heart rate per bin (``[{'start_s', 'mean_bpm'}]``) over the record, in minutes."""
    minutes = [row["start_s"] / 60 for row in trend]
    fig = go.Figure(go.Scatter(x=minutes, y=[row["mean_bpm"] for row in trend], mode="lines+markers",
                               line=dict(color="#c92a2a"), hovertemplate="minute %{x:.0f}: %{y:.0f} bpm<extra></extra>"))
    fig.update_layout(height=220, margin=dict(l=50, r=10, t=10, b=40), xaxis_title="time (min)",
                      yaxis_title="heart rate (bpm)", showlegend=False)
    return fig


def agreement_column(n_networks: int) -> str:
    """The beat table's agreement column, e.g. "networks agreeing (of 3)"."""
    return f"networks agreeing (of {n_networks})"


def beat_table(beat_samples: np.ndarray, labels: list[str], probabilities: np.ndarray, fs: float,
               without_regular_beats: np.ndarray | None = None, networks_agreeing: np.ndarray | None = None,
               n_networks: int = 1) -> pd.DataFrame:
    """One row per beat: number, time (s), class, its probability, and all class probabilities.

    With ``networks_agreeing`` (n,) int, a column after the probability gives how
    many of the ensemble's ``n_networks`` networks, each alone, give that class.
    With ``without_regular_beats`` (n,) bool, a last column says whether each beat
    lies in a stretch without regular beats (:mod:`medmodels.ecg.quality`).
    """
    # (n, 5) even for n = 0, so a lead without beats gives an empty table with the same columns.
    probs = np.asarray(probabilities, dtype=np.float64).reshape(len(labels), len(AAMI))
    table = pd.DataFrame({
        "beat": np.arange(1, len(labels) + 1),
        "time (s)": np.round(np.asarray(beat_samples, dtype=np.float64) / fs, 3),
        "class": list(labels),
        "probability": np.round(probs.max(axis=1, initial=0.0), 3),
    })
    if networks_agreeing is not None:
        table[agreement_column(n_networks)] = np.asarray(networks_agreeing, dtype=np.int64)
    for j, cls in enumerate(AAMI):
        table[f"p({cls})"] = np.round(probs[:, j], 3)
    if without_regular_beats is not None:
        table["in stretch without regular beats"] = np.asarray(without_regular_beats, dtype=bool)
    return table


def beat_views(windows_mv: np.ndarray, second_windows_mv: np.ndarray | None, index: int, time_s: float,
               label: str, probabilities: np.ndarray, lead_name: str,
               second_lead_name: str | None = None) -> list[tuple[np.ndarray, str]]:
    """The picked beat's panels: ``(window (L,) mV, title)`` for the analysed lead, then the same instants of the
    second lead when the classifier read one (``second_windows_mv`` (n, L) and its name, else None).

    ``index`` is the beat's 0-based index (titles count from 1); ``probabilities`` (5,) in AAMI order.
    """
    probs = ", ".join(f"{c} {p:.2f}" for c, p in zip(AAMI, np.asarray(probabilities)))
    views = [(windows_mv[index], f"Beat {index + 1} at {time_s:.2f} s, {lead_name}: {label} ({probs})")]
    if second_windows_mv is not None:
        views.append((second_windows_mv[index], f"Same beat, lead {second_lead_name}"))
    return views


def beat_saliency_figure(
    beat_mv: np.ndarray, saliency: np.ndarray | None, fs: float, *, before_s: float, title: str = "",
    opacity: float = 0.5
) -> go.Figure:
    """One beat enlarged on ECG paper with its attribution as a shaded band under the trace.

    Args:
        beat_mv: (m,) the beat window in mV.
        saliency: (m,) attribution, any non-negative scale (normalised here;
            a flat map shows nothing instead of dividing by zero), or None:
            no band and no colour bar (a beat with no class decision to explain).
        fs: sampling rate of the window (Hz).
        before_s: time of the R peak from the window start (s); it is drawn at 0.
        opacity: of the shading, 0 to 1.
    """
    t = np.arange(len(beat_mv)) / fs - before_s
    low = float(np.floor((np.nanmin(beat_mv) - 0.3) / MAJOR_MV) * MAJOR_MV)
    high = float(np.ceil((np.nanmax(beat_mv) + 0.3) / MAJOR_MV) * MAJOR_MV)
    fig = go.Figure()
    if saliency is not None:
        weight = np.clip(np.nan_to_num(np.asarray(saliency, dtype=np.float64)), 0, None)
        peak = weight.max() if weight.size else 0.0
        weight = weight / peak if peak > 0 else np.zeros_like(weight)
        fig.add_trace(go.Bar(x=t, y=np.full(len(t), high - low), base=low, width=1 / fs,
                             marker=dict(color=weight, colorscale="YlOrRd", cmin=0, cmax=1, line_width=0,
                                         colorbar=dict(title="saliency", thickness=12, len=0.8)),
                             opacity=opacity,
                             hovertemplate="%{x:.3f} s<br>saliency %{marker.color:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=t, y=beat_mv, mode="lines", line=dict(color="black", width=1.6),
                             hovertemplate="%{x:.3f} s<br>%{y:.2f} mV<extra></extra>"))
    paper_axes(fig, (float(t[0]), float(t[-1])), (min(low, -0.5), max(high, 0.5)))
    fig.update_layout(title=title, height=360, bargap=0, margin=dict(l=50, r=10, t=40, b=40))
    fig.update_yaxes(minor_dtick=MINOR_MV)
    return fig


def confusion_figure(matrix: np.ndarray, row_labels: list[str], column_labels: list[str]) -> go.Figure:
    """Heat map of beat counts: rows reference, columns model."""
    counts = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(z=np.log1p(counts), x=column_labels, y=row_labels, text=counts,
                               texttemplate="%{text}", colorscale="Blues", showscale=False,
                               hovertemplate="reference %{y}, model %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=320, margin=dict(l=60, r=10, t=10, b=50), xaxis_title="model",
                      yaxis_title="reference", yaxis_autorange="reversed")
    return fig

