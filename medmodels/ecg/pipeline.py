"""One entry point for a lead: condition → detect → classify → summarise (→ saliency).

With a second, precordial lead the two-lead classifier also reads each beat's
shape there; beats are always detected and timed on the analysed lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medmodels.ecg import AAMI_CLASSES
from medmodels.ecg.beats import MODEL_FS, locate_r_peaks
from medmodels.ecg.conditioning import check_signal, condition_for_analysis, resample, to_rate
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
    inputs of every beat (``waveform`` (n, L, 2 per lead), ``rr`` (n, n_rr)), so the
    saliency of any beat can be computed later without re-running the pipeline;
    ``without_regular_beats`` (n,) bool, whether each beat lies in a stretch
    with neither QRS spikes nor repeating beats (:mod:`medmodels.ecg.quality`);
    ``networks_agreeing`` (n,) int, how many of the classifier's ``n_networks``
    networks, each deciding alone, give the beat its label; ``leads`` how many
    leads the classifier read (1, or 2 when a second lead was given);
    ``cut_at_record_edge`` (n,) bool, beats whose QRS the record's start or end
    cuts, labelled Q without the classifier's vote (:func:`label_cut_beats_q`).
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
    leads: int = 1
    cut_at_record_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def second_windows_mv(self) -> np.ndarray | None:
        """(n, L) the second lead's conditioned beat windows (mV, model rate, the same instants as
        ``windows_mv``) when the two-lead classifier ran, else None."""
        if self.leads != 2:
            return None
        return self.inputs["waveform"][:, :, 2]  # channels: analysed lead (beat, relative), then second lead


#: A second lead spanning less than this (mV, 0.5–99.5 percentile) is taken as disconnected: the two-lead
#: classifier would read its flat line as the beat's second view.
FLAT_LEAD_SPAN_MV = 0.05


def second_lead_problem(signal_mv: np.ndarray) -> str | None:
    """Why a candidate second lead ((n,) mV) cannot be used (no valid samples, flat), or None when it can."""
    x = np.asarray(signal_mv, dtype=np.float64)
    finite = x[np.isfinite(x)]
    if finite.size < 0.5 * x.size:
        return "over half of its samples are missing"
    span = float(np.percentile(finite, 99.5) - np.percentile(finite, 0.5))
    if span < FLAT_LEAD_SPAN_MV:
        return f"it looks flat (spans {span:.2f} mV; electrode off?)"
    return None


#: ``requested`` value of :func:`second_lead_for` that asks for the single-lead classifier.
NO_SECOND_LEAD = "none"


def second_lead_for(signal_mv: np.ndarray, lead_names, first: int,
                    requested: str | None = None) -> tuple[int | None, str | None]:
    """The column to use as second lead beside column ``first``, and a note when a possible one is not used.

    ``signal_mv``: (n, leads) mV.  ``requested``: a lead name, None (automatic:
    V1, else V2, … V6) or :data:`NO_SECOND_LEAD`.  Returns ``(None, note)`` when
    the chosen lead is unusable (:func:`second_lead_problem`), so that the
    single-lead classifier runs instead; a requested lead that is not a
    precordial lead of the record is an :class:`~medmodels.errors.InputError`.
    """
    from medmodels.ecg.reading import choose_second_lead

    if requested is not None and requested.strip().lower() == NO_SECOND_LEAD:
        return None, None
    column = choose_second_lead(lead_names, first, requested)
    if column is None:
        return None, None
    problem = second_lead_problem(np.asarray(signal_mv)[:, column])
    if problem:
        return None, (f"Second lead {lead_names[column]} not used ({problem}): the single-lead classifier "
                      f"analysed lead {lead_names[first]} alone.")
    return column, None


#: A beat whose R peak lies closer than this (s) to the record's start or end is not classified: part of its
#: QRS (up to 0.12 s wide when normal, wider when ventricular) may lie outside the record.  On 10-s pieces of
#: the DS1 records (two-lead classifier, reference beat positions, edges conditioned by
#: :func:`~medmodels.ecg.conditioning.condition_for_analysis`), the networks called 22.0 % of such normal beats
#: at the end abnormal (102 of 464) and 4.1 % at the start (19 of 465), against 1.0 % and 2.3 % for the other
#: last and first beats and 1.4 % inside the pieces.
QRS_EDGE_MARGIN_S = 0.1


def cut_at_record_edge(beat_samples: np.ndarray, n_samples: int, fs: float) -> np.ndarray:
    """bool (n_beats,): beats (samples at ``fs``) within QRS_EDGE_MARGIN_S of sample 0 or of the last sample."""
    s = np.asarray(beat_samples, dtype=np.float64)
    margin = QRS_EDGE_MARGIN_S * fs
    return (s < margin) | (s > n_samples - 1 - margin)


def label_cut_beats_q(probabilities: np.ndarray, networks_agreeing: np.ndarray, cut: np.ndarray,
                      n_networks: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (n, 5) and agreement (n,) with every ``cut`` beat made Q (unclassifiable); new arrays.

    As with the AF rule (:func:`~medmodels.ecg.model.fold_s_into_n`), a rule
    overrides the networks where their answer cannot mean anything: a beat
    whose QRS is not wholly recorded gets probability 1 for Q, the AAMI class
    of beats that cannot be classified, and every network, under the same
    rule, agrees.
    """
    p = np.array(probabilities, dtype=np.float64, copy=True)
    agreeing = np.array(networks_agreeing, dtype=np.int64, copy=True)
    p[cut] = 0.0
    p[cut, AAMI_CLASSES.index("Q")] = 1.0
    agreeing[cut] = n_networks
    return p, agreeing


def analyse_ecg(signal_mv: np.ndarray, fs: float, model=None, *, second_lead_mv: np.ndarray | None = None,
                beat_samples: np.ndarray | None = None, saliency_for_non_normal: bool = False) -> EcgAnalysis:
    """Analyse one lead (beats are detected and timed on it), with a second lead's view of each beat if given.

    ``signal_mv``: (n,) millivolts at ``fs`` Hz (100–1000); not modified.
    ``second_lead_mv``: (n,) millivolts, a precordial lead of the same record
    (see :func:`medmodels.ecg.reading.choose_second_lead`), or None.
    ``model``: a :class:`~medmodels.ecg.model.BeatClassifier` (default: the
    committed two-lead one when a second lead is given, else the single-lead
    one; cached).  ``beat_samples``: use these beat positions (e.g.
    reference annotations, input rate) instead of the detector's.  With
    ``saliency_for_non_normal`` the Grad-CAM maps of every beat not labelled N
    are computed too.
    """
    from medmodels.ecg.model import cached_classifier, irregular_rhythm

    model = model or cached_classifier(1 if second_lead_mv is None else 2)
    if model.leads == 2 and second_lead_mv is None:
        raise ValueError("this classifier reads two leads: pass second_lead_mv")
    if model.leads == 1 and second_lead_mv is not None:
        raise ValueError("this classifier reads one lead: a second lead would be ignored")
    x = check_signal(signal_mv, fs)
    second = None if second_lead_mv is None else check_signal(second_lead_mv, fs)
    if second is not None and second.size != x.size:
        raise ValueError(f"the two leads differ in length ({x.size} and {second.size} samples)")
    conditioned = condition_for_analysis(x, fs)
    if beat_samples is None:
        beats = detect_qrs(x, fs)
    else:
        beats = locate_r_peaks(x, fs, np.asarray(beat_samples, dtype=np.int64))
    model_signal = resample(conditioned, fs, MODEL_FS)
    model_beats = np.clip(to_rate(beats, fs, MODEL_FS), 0, model_signal.size - 1)
    second_model_rate = None if second is None else resample(condition_for_analysis(second, fs), fs, MODEL_FS)
    inputs = model.inputs(model_signal, model_beats, second_model_rate)
    probabilities, networks_agreeing = model.predict_with_agreement(inputs)
    cut = cut_at_record_edge(beats, x.size, fs)
    probabilities, networks_agreeing = label_cut_beats_q(probabilities, networks_agreeing, cut, len(model.networks))
    labels = [AAMI_CLASSES[i] for i in probabilities.argmax(axis=1)]
    summary = summarise_rhythm(beats, labels, fs, duration_s=x.size / fs)
    irregular = irregular_rhythm(inputs, model.spec)
    # Share of beats in irregular (non-repeating, AF-like) RR stretches, where S is not assigned; frequent
    # varying ectopy (e.g. record 119, ventricular bigeminy/trigeminy: about 31 %) also counts.
    summary["irregular_rhythm_percent"] = round(100.0 * float(irregular.mean()), 1) if irregular.size else 0.0
    summary["beats_cut_at_record_edge"] = int(cut.sum())
    flags = no_regular_beats_windows(conditioned, beats, fs)
    summary.update(no_regular_beats_summary(flags, x.size, fs))
    saliency_beats = np.zeros(0, dtype=np.int64)
    saliency = np.zeros((0, inputs["waveform"].shape[1]), dtype=np.float32)
    if saliency_for_non_normal:
        from medmodels.ecg.saliency import grad_cam

        # A cut beat's Q is the rule's, not the networks': there is no class decision for Grad-CAM to explain.
        saliency_beats = np.flatnonzero(np.array([lab != "N" for lab in labels], dtype=bool) & ~cut)
        if saliency_beats.size:
            subset = {k: v[saliency_beats] for k, v in inputs.items()}
            saliency = grad_cam(model.networks, subset, probabilities[saliency_beats].argmax(axis=1))
    return EcgAnalysis(float(fs), beats.astype(np.int64), labels, probabilities, summary,
                       inputs["waveform"][:, :, 0], model.name, model.sha256,
                       window_before_s=model.spec.before / MODEL_FS, inputs=inputs, saliency_beats=saliency_beats, saliency=saliency,
                       without_regular_beats=in_flagged_window(beats, flags, x.size, fs),
                       networks_agreeing=networks_agreeing, n_networks=len(model.networks), leads=model.leads,
                       cut_at_record_edge=cut)


def warm_up(model) -> None:
    """Compile ``model``'s inference and Grad-CAM functions for any number of beats, on dummy inputs.

    Under TensorFlow each compiled function is traced for the input shapes it
    first sees; a second, different batch size makes it retrace once for any
    batch size (``reduce_retracing``).  Without this the first two records a
    server analyses pay the tracing (3.4 and 4.5 s with the two-lead
    classifier, against about 0.6 s later); with it the cost moves to model
    loading.  Two tiny batches (2 and 3 flat beats) do both traces.  Changes no
    weights or layers.  Under JAX every new batch size still compiles.
    """
    from medmodels.ecg.saliency import grad_cam

    for n in (2, 3):
        inputs = {"waveform": np.zeros((n, model.spec.length, model.spec.channels), dtype=np.float32),
                  "rr": np.ones((n, len(model.spec.rr_features)), dtype=np.float32)}
        model.member_logits(inputs)
        grad_cam(model.networks, inputs, np.zeros(n, dtype=np.int64))
