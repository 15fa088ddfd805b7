"""One entry point for a lead: condition → detect → classify → summarise (→ saliency)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.beats import MODEL_FS, locate_r_peaks
from medmodels.ecg.conditioning import check_signal, remove_baseline_and_mains, resample, to_rate
from medmodels.ecg.qrs import detect_qrs
from medmodels.ecg.quality import in_flagged_window, no_regular_beats_summary, no_regular_beats_windows
from medmodels.ecg.rhythm import summarise_rhythm


@dataclass(frozen=True)
class EcgAnalysis:
    """Result of :func:`analyse_ecg` for one lead.

    ``beat_samples`` (n,) int64 in the input's own rate; ``labels`` n strings
    from N,S,V,F,Q; ``probabilities`` (n, 5) float, columns N,S,V,F,Q,
    after the card's class offsets and temperature (see :mod:`medmodels.ecg.model`:
    the card reports their top-label ECE on DS2, not a per-class calibration); ``summary`` the rhythm summary; ``windows_mv`` (n, L) the
    conditioned beat windows at the model rate (MODEL_FS, mV), the R peak
    ``window_before_s`` into each; ``saliency`` (k, L) Grad-CAM maps (0–1) for beats ``saliency_beats``
    (indices into the beats), empty unless requested; ``inputs`` the model
    inputs of every beat (``waveform`` (n, L, 2), ``rr`` (n, n_rr)), so the
    saliency of any beat can be computed later without re-running the pipeline;
    ``without_regular_beats`` (n,) bool, whether each beat lies in a stretch
    with neither QRS spikes nor repeating beats (:mod:`medmodels.ecg.quality`);
    ``networks_agreeing`` (n,) int, how many of the classifier's ``n_networks``
    networks, each deciding alone, give the beat its label.
    """

    fs: float
    beat_samples: np.ndarray
    labels: list[str]
    probabilities: np.ndarray
    summary: dict
    windows_mv: np.ndarray
    model_name: str
    model_sha256: str
    model_fs: float = MODEL_FS
    window_before_s: float = 0.0
    inputs: dict = field(default_factory=dict, repr=False)
    saliency_beats: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    saliency: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    without_regular_beats: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    networks_agreeing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_networks: int = 1


def analyse_ecg(signal_mv: np.ndarray, fs: float, model=None, *, beat_samples: np.ndarray | None = None,
                saliency_for_non_normal: bool = False) -> EcgAnalysis:
    """Analyse one lead.

    ``signal_mv``: (n,) millivolts at ``fs`` Hz (100–1000); not modified.
    ``model``: a :class:`~medmodels.ecg.model.BeatClassifier` (default: the
    committed one, cached).  ``beat_samples``: use these beat positions (e.g.
    reference annotations, input rate) instead of the detector's.  With
    ``saliency_for_non_normal`` the Grad-CAM maps of every beat not labelled N
    are computed too.
    """
    from medmodels.ecg.model import cached_classifier, irregular_rhythm

    model = model or cached_classifier()
    x = check_signal(signal_mv, fs)
    conditioned = remove_baseline_and_mains(x, fs)
    if beat_samples is None:
        beats = detect_qrs(x, fs)
    else:
        beats = locate_r_peaks(x, fs, np.asarray(beat_samples, dtype=np.int64))
    model_signal = resample(conditioned, fs, MODEL_FS)
    model_beats = np.clip(to_rate(beats, fs, MODEL_FS), 0, model_signal.size - 1)
    inputs = model.inputs(model_signal, model_beats)
    probabilities, networks_agreeing = model.predict_with_agreement(inputs)
    labels = [AAMI_CLASSES[i] for i in probabilities.argmax(axis=1)]
    summary = summarise_rhythm(beats, labels, fs, duration_s=x.size / fs)
    irregular = irregular_rhythm(inputs, model.spec)
    # Share of beats in irregular (non-repeating, AF-like) RR stretches, where S is not assigned; frequent
    # varying ectopy (e.g. record 119, ventricular bigeminy/trigeminy: about 31 %) also counts.
    summary["irregular_rhythm_percent"] = round(100.0 * float(irregular.mean()), 1) if irregular.size else 0.0
    flags = no_regular_beats_windows(conditioned, beats, fs)
    summary.update(no_regular_beats_summary(flags, x.size, fs))
    saliency_beats = np.zeros(0, dtype=np.int64)
    saliency = np.zeros((0, inputs["waveform"].shape[1]), dtype=np.float32)
    if saliency_for_non_normal:
        from medmodels.ecg.saliency import grad_cam

        saliency_beats = np.flatnonzero(np.array([lab != "N" for lab in labels], dtype=bool))
        if saliency_beats.size:
            subset = {k: v[saliency_beats] for k, v in inputs.items()}
            saliency = grad_cam(model.networks, subset, probabilities[saliency_beats].argmax(axis=1))
    return EcgAnalysis(float(fs), beats.astype(np.int64), labels, probabilities, summary,
                       inputs["waveform"][:, :, 0], model.name, model.sha256,
                       window_before_s=model.spec.before / MODEL_FS, inputs=inputs, saliency_beats=saliency_beats, saliency=saliency,
                       without_regular_beats=in_flagged_window(beats, flags, x.size, fs),
                       networks_agreeing=networks_agreeing, n_networks=len(model.networks))
