"""What the ECG page shows about an analysis: agreement with a reference, rhythm tables.

Pure functions over :class:`medmodels.ecg.pipeline.EcgAnalysis` and reference
annotations; no Streamlit, no model calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ecg import AAMI_CLASSES
from .ecg.agreement import MATRIX_LABELS, class_metrics, confusion_matrix, match_beats
from .ecg.beats import LOCAL_RR_HALF_WIDTH, rr_features
from .ecg.mitdb import AAMI_MAP
from .ecg.pipeline import QRS_EDGE_MARGIN_S
from .ecg.rhythm import BIGEMINY_MIN_PAIRS, HR_EXTREMES_INTERVALS, PAUSE_THRESHOLD_S, VT_RATE_BPM
from .ecg.reading import is_lead_ii, precordial_name
from .ecg_analysis_view import CLASS_NAMES
from .wfdb_io import Annotations

MATCH_WINDOW_S = 0.15


@dataclass(frozen=True)
class Agreement:
    """Model vs reference: a (6, 6) confusion matrix (last row/column: unmatched) and per-class figures."""

    matrix: np.ndarray
    metrics: dict
    n_reference: int

    def table(self) -> pd.DataFrame:
        rows = []
        for cls in AAMI_CLASSES:
            m = self.metrics[cls]
            rows.append({"class": cls, "reference beats": m["n_reference"], "model beats": m["n_predicted"],
                         "Se (%)": _round(m["Se"]), "+P (%)": _round(m["+P"]), "F1 (%)": _round(m["F1"])})
        return pd.DataFrame(rows)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def reference_beats(annotations: Annotations) -> tuple[np.ndarray, np.ndarray]:
    """Beat annotations mapped to AAMI classes: (samples, class indices); rhythm and other marks dropped."""
    keep = [i for i, symbol in enumerate(annotations.symbol) if symbol in AAMI_MAP]
    samples = np.asarray(annotations.sample, dtype=np.int64)[keep]
    classes = np.array([AAMI_CLASSES.index(AAMI_MAP[annotations.symbol[i]]) for i in keep], dtype=np.int64)
    return samples, classes


def agreement_with_reference(annotations: Annotations, beat_samples: np.ndarray, labels: list[str], fs: float) -> Agreement:
    """Match model beats to reference beats within 150 ms and tabulate classes.

    Unmatched model beats count as false positives of their class, missed
    reference beats as false negatives of theirs.
    """
    ref_samples, ref_classes = reference_beats(annotations)
    test_classes = np.array([AAMI_CLASSES.index(label) for label in labels], dtype=np.int64)
    matches = match_beats(ref_samples, np.asarray(beat_samples, dtype=np.int64), fs, MATCH_WINDOW_S)
    matrix = confusion_matrix(ref_classes, test_classes, matches)
    return Agreement(matrix, class_metrics(matrix), int(ref_samples.size))


def matrix_labels() -> list[str]:
    """Row/column names of the agreement matrix, with 'unmatched' spelled out."""
    return [label if label != "-" else "unmatched" for label in MATRIX_LABELS]


def held_out_class_figures(card: dict) -> dict[str, dict]:
    """The beat classifier's per-class figures on DS2 with its own beat detector (class -> {"Se", "+P", …}).

    Read from the card's ``metrics.test_metrics.own_detector`` (written by
    ``python -m medmodels.evaluate ecg``): the same path the page runs. Empty when absent.
    """
    own = card.get("metrics", {}).get("test_metrics", {}).get("own_detector", {})
    return {cls: own[cls] for cls in AAMI_CLASSES if isinstance(own.get(cls), dict)}


#: A class whose held-out sensitivity is below this (%) is "mostly missed": a low count of it rules nothing out.
MOSTLY_MISSED_SE_PERCENT = 50.0
#: Fewer held-out reference beats than this give no sensitivity worth a warning (DS2 holds 7 Q beats).
MIN_REFERENCE_BEATS_FOR_NOTE = 100


def mostly_missed_note(card: dict) -> str | None:
    """A warning that a low or zero count of a class means little, for classes the model mostly missed held-out.

    Classes other than N with at least MIN_REFERENCE_BEATS_FOR_NOTE held-out reference beats and a held-out
    sensitivity below MOSTLY_MISSED_SE_PERCENT (:func:`held_out_class_figures`); None when there are none.
    """
    missed = [(cls, figures["Se"]) for cls, figures in held_out_class_figures(card).items()
              if cls != "N" and figures.get("Se") is not None
              and (figures.get("n_reference") or 0) >= MIN_REFERENCE_BEATS_FOR_NOTE
              and figures["Se"] < MOSTLY_MISSED_SE_PERCENT]
    if not missed:
        return None
    found = " and ".join(f"{se:.1f} % of {cls} ({CLASS_NAMES[cls]}) beats" for cls, se in missed)
    names = " or ".join(cls for cls, _ in missed)
    text = (f"This model misses most beats of some classes: on held-out patients it found only {found}. "
            f"A low or zero {names} count here does not rule them out: read the strip.")
    if any(cls == "S" for cls, _ in missed):
        text += (" S beats were missed most where premature atrial beats were the patient's main rhythm: they come "
                 "at the record's usual interval and look like its usual beat, so the model reads them as regular.")
    return text


#: Why a Se, +P or F1 cell can be empty (pandas None); said wherever such a table is shown.
UNDEFINED_FIGURE_NOTE = ("None: not defined, because there were no reference beats of that class (Se) or no "
                         "model calls of it (+P); F1 is then undefined too.")


def held_out_caption(card: dict) -> str:
    """What the held-out columns of :func:`burden_table` mean, and what the card's calibration error measures."""
    test = card.get("metrics", {}).get("test_metrics", {})
    if not held_out_class_figures(card):
        return "This model card has no held-out figures."
    text = (f"Held-out: on {test.get('split', 'the test records')}, patients the model never saw, with beats "
            "from the same detector as here. Se: of the reference beats of a class, the % the model called that "
            "class. +P: of the model's calls of a class, the % that were right. " + UNDEFINED_FIGURE_NOTE)
    if "ece_ds2_reference_beats" in test:
        ece = 100 * test["ece_ds2_reference_beats"]
        text += (f" Calibration: expected calibration error of the top label {ece:.1f} % on those records at the "
                 "reference beat positions" + _n_share(test)
                 + "; it is not a per-class guarantee, e.g. for an S or V probability.")
    return text


def _n_share(test: dict) -> str:
    """The clause giving N beats' share of the DS2 reference beats (it dominates a top-label ECE); "" without counts."""
    rows = test.get("reference_beats", {})
    counts = {cls: row.get("n_reference") for cls, row in rows.items() if isinstance(row, dict)}
    if not counts.get("N") or None in counts.values():
        return ""
    return f", where N beats are {100 * counts['N'] / sum(counts.values()):.0f} % of the beats and dominate it"


def burden_table(summary: dict, held_out: dict[str, dict] | None = None) -> pd.DataFrame:
    """Beats and burden (% of all beats) per class.

    With ``held_out`` (:func:`held_out_class_figures`) each class also shows the
    model's held-out sensitivity and positive predictivity (%): how far to trust a
    count, e.g. an S count from a model whose S calls were right 43 % of the time.
    """
    rows = []
    for cls in AAMI_CLASSES:
        row = {"class": cls, "beats": summary["class_counts"][cls], "burden (%)": summary["burden_percent"][cls]}
        if held_out is not None:
            figures = held_out.get(cls, {})
            row |= {"held-out Se (%)": figures.get("Se"), "held-out +P (%)": figures.get("+P")}
        rows.append(row)
    return pd.DataFrame(rows)


def events_table(summary: dict) -> pd.DataFrame:
    """Rhythm events in time order: V couplets and runs, bigeminy episodes, pauses over 2 s, stretches without regular beats."""
    rows = [{"time (s)": e["start_s"], "event": "V couplet", "detail": ""} for e in summary.get("v_couplet_list", [])]
    rows += [{"time (s)": e["start_s"], "event": "V run", "detail": _v_run_detail(e)} for e in summary.get("v_run_list", [])]
    for key, name in (("ventricular_bigeminy", "ventricular bigeminy"), ("supraventricular_bigeminy", "supraventricular bigeminy")):
        rows += [{"time (s)": e["start_s"], "event": name, "detail": f"{e['pairs']} pairs to {e['end_s']:.1f} s"}
                 for e in summary.get(key, [])]
    rows += [{"time (s)": e["start_s"], "event": "pause", "detail": f"{e['duration_s']:.2f} s"}
             for e in summary.get("pauses", [])]
    rows += [{"time (s)": e["start_s"], "event": "no regular beats", "detail": f"to {e['end_s']:.1f} s"}
             for e in summary.get("no_regular_beats_spans", [])]
    table = pd.DataFrame(rows, columns=["time (s)", "event", "detail"])
    table = table.sort_values("time (s)", kind="stable").reset_index(drop=True)
    table.insert(1, "clock", [clock(t) for t in table["time (s)"]])
    return table


def _v_run_detail(run: dict) -> str:
    """'5 beats in 2.1 s at 114 bpm (ventricular-tachycardia range)'; the range is by rate alone."""
    detail = f"{run['beats']} beats"
    if run.get("duration_s") is not None:
        detail += f" in {run['duration_s']:.1f} s"
    if run.get("rate_bpm"):
        words = "ventricular-tachycardia" if run["rate_bpm"] >= VT_RATE_BPM else "idioventricular"
        detail += f" at {run['rate_bpm']:.0f} bpm ({words} range)"
    return detail


def clock(seconds: float) -> str:
    """Time from the record start as a Holter report writes it: 'm:ss.s', or 'h:mm:ss' from one hour."""
    if seconds >= 3600:
        hours, rest = divmod(int(round(seconds)), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    minutes, tenths = divmod(int(round(seconds * 10)), 600)  # rounded first: 59.96 s is 1:00.0, not 0:60.0
    return f"{minutes}:{tenths / 10:04.1f}"


def rhythm_definitions_note(summary: dict) -> str:
    """One caption line: how the figures above were counted, with the times of the HR extremes and longest pause."""
    hr = summary["heart_rate"]
    parts = []
    if hr.get("min_bpm") is not None:
        parts.append(f"Min and max HR: the lowest and highest mean over {HR_EXTREMES_INTERVALS} consecutive beats "
                     f"(at {clock(hr['min_at_s'])} and {clock(hr['max_at_s'])}).")
    longest = summary.get("longest_pause")
    if longest:
        parts.append(f"Longest pause {longest['duration_s']:.2f} s at {clock(longest['start_s'])}.")
    parts.append(f"A couplet is 2 consecutive V beats, a run 3 or more; bigeminy needs {BIGEMINY_MIN_PAIRS} normal–"
                 f"ectopic pairs in a row; none of them spans a pause over {PAUSE_THRESHOLD_S:.0f} s. "
                 "Burden: share of all detected beats. Times: minutes:seconds from the record start.")
    return " ".join(parts)


def no_beats_note(lead_name: str, signal_mv: np.ndarray) -> str:
    """What to tell the user when no beat was found on a lead, with the lead's amplitude as evidence.

    ``signal_mv``: (n,) the raw lead in mV; NaN gaps are ignored.
    """
    finite = np.asarray(signal_mv, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    span = float(np.ptp(finite)) if finite.size else 0.0
    cause = ("The lead looks flat (electrode off or disconnected?)." if span < 0.05
             else "The lead may hold no ECG, or only noise.")
    return (f"No heartbeats were found on lead {lead_name} (its signal spans {span:.2f} mV). {cause} "
            "Choose another lead, or upload a record with a visible QRS complex.")


def untested_lead_note(lead_name: str) -> str | None:
    """A sentence when the analysed lead is not the one the classifier was trained and tested on (MLII/II), or None."""
    if is_lead_ii(lead_name):
        return None
    return (f"The beat classifier was trained and tested on lead MLII (modified lead II) of MIT-BIH Holter records; "
            f"lead {lead_name} was not measured. QRS shapes differ between leads, so the held-out figures do not "
            "apply here and S/V labels are less reliable: choose lead II or MLII if the record has it.")


#: Second leads of the held-out MIT-BIH DS2 records on which the two-lead classifier was measured.
MEASURED_SECOND_LEADS = ("V1", "V2", "V5")


def untested_second_lead_note(lead_name: str | None) -> str | None:
    """A sentence when the two-lead classifier's second lead is not one its held-out figures cover, or None."""
    if lead_name is None or precordial_name(lead_name) in MEASURED_SECOND_LEADS:
        return None
    return (f"The two-lead classifier's held-out figures come from records whose second lead was V1, V2 or V5; "
            f"second lead {lead_name} was not measured, so they may not apply: choose V1 if the record has it, or "
            "no second lead for the single-lead classifier.")


def no_regular_beats_note(summary: dict, card: dict) -> str | None:
    """Warning text when stretches of the lead have no regular beats, with what the check found on MIT-BIH; else None.

    ``summary`` is the analysis summary (``no_regular_beats_percent``); the
    figures come from the card's ``qrs_detection_all_48_records_lead0
    .no_regular_beats_check``, written by ``python -m medmodels.evaluate ecg``.
    """
    percent = summary.get("no_regular_beats_percent", 0.0)
    if not percent:
        return None
    text = (f"No regular beats in {percent:.0f} % of this record (listed under events): neither sharp QRS "
            "complexes nor repeating beat shapes. This is what noise or artefact looks like, and also ventricular "
            "tachycardia, flutter or fibrillation: look at the strip. Beat labels there are unreliable.")
    check = (card.get("metrics", {}).get("test_metrics", {}).get("qrs_detection_all_48_records_lead0", {})
             .get("no_regular_beats_check"))
    if check:
        flagged, rest = check["flagged"], check["rest"]
        text += (f" On the 48 MIT-BIH records the check flagged {flagged['windows']} windows of 10 s, "
                 f"{check['ventricular_tachyarrhythmia_windows_flagged']} of them in annotated ventricular "
                 f"tachycardia or flutter and {check['annotated_noisy_windows_flagged']} in annotated noise; our "
                 f"detector found {flagged['Se']:.0f} % of the beats there ({rest['Se']:.1f} % elsewhere). It "
                 f"flagged only {check['ventricular_tachyarrhythmia_windows_flagged']} of "
                 f"{check['ventricular_tachyarrhythmia_windows']} windows of ventricular tachycardia or flutter and "
                 f"{check['annotated_noisy_windows_flagged']} of {check['annotated_noisy_windows']} noisy ones, so "
                 "no warning does not rule either out.")
    return text


def rr_context_note(beat_samples: np.ndarray, fs: float, index: int) -> str:
    """One beat's timing in words: the RR intervals around it, which the classifier takes as inputs beside the
    waveform but which the waveform saliency cannot shade (prematurity is the strongest cue for S beats).

    Args:
        beat_samples: (n,) R-peak sample indices of every beat of the record, ascending.
        fs: sampling rate (Hz) of ``beat_samples``.
        index: the beat, 0-based.
    """
    samples = np.asarray(beat_samples, dtype=np.float64)
    if samples.size < 2:
        return "Only one beat was found, so the model had no RR intervals to weigh."
    pre_ratio, post_ratio, local_s = rr_features(
        samples, fs, ("pre_rr / local_mean_rr", "post_rr / local_mean_rr", "local_mean_rr_s"))[index]
    rr_s = np.diff(samples) / fs
    # rr_features lends the first beat its next interval and the last its previous one; say so rather than
    # present a borrowed interval as measured.
    pre = "none (first beat)" if index == 0 else f"{rr_s[index - 1]:.2f} s ({100 * pre_ratio:.0f} %)"
    post = "none (last beat)" if index == samples.size - 1 else f"{rr_s[index]:.2f} s ({100 * post_ratio:.0f} %)"
    return (f"Timing, which the model also weighs but the shading does not cover: RR before {pre}, RR after {post}; "
            f"percentages of the local mean RR, {local_s:.2f} s over the {2 * LOCAL_RR_HALF_WIDTH + 1} intervals around the beat.")


def agreement_note(networks_agreeing: np.ndarray, n_networks: int, card: dict | None = None) -> str:
    """What the beat table's agreement column means, how many beats the networks split on here, and the card's
    DS2 figures for the two groups (when it has them)."""
    if n_networks < 2:
        return ""
    agreeing = np.asarray(networks_agreeing)
    split = len(agreeing) - int((agreeing == n_networks).sum())
    text = (f"Networks agreeing: of the classifier's {n_networks} networks ({_networks_described(card)}), "
            f"how many give the beat its class on their own; fewer than {n_networks} means the training data did "
            f"not settle that beat's class. They split on {split} of {len(agreeing)} beats here.")
    figures = (card or {}).get("metrics", {}).get("test_metrics", {}).get("network_agreement_reference_beats")
    if figures and figures.get("n_networks") == n_networks:
        agree, differ = figures["all_agree"], figures["some_disagree"]
        text += (f" On MIT-BIH DS2 (reference beat positions) the class was right for {agree['accuracy_percent']:.1f} % "
                 f"of the beats where all agreed and {_or_dash(differ['accuracy_percent'])} where some did not "
                 f"({differ['share_percent']:.1f} % of the beats); of their S, V, F and Q calls "
                 f"{_or_dash(agree['non_n_calls_right_percent'])} and {_or_dash(differ['non_n_calls_right_percent'])} "
                 "were right.")
    return text


def _networks_described(card: dict | None) -> str:
    """How an ensemble's networks differ, from its card's members (the two-lead classifier holds two recipes)."""
    leads = [m.get("leads") for m in (card or {}).get("weights", {}).get("members", [])]
    if 1 in leads and 2 in leads:
        return (f"{leads.count(2)} reading both leads and {leads.count(1)} the analysed lead only, "
                "different training seeds")
    return "one recipe, different training seeds"


def _or_dash(percent: float | None) -> str:
    return "–" if percent is None else f"{percent:.1f} %"


def cut_beats_note(beat_samples: np.ndarray, cut: np.ndarray, fs: float) -> str | None:
    """Which beats were labelled Q because the record's start or end cuts their QRS, or None when none was.

    Args:
        beat_samples: (n,) R-peak sample indices at ``fs``; ``cut``: (n,) bool
        (:attr:`~medmodels.ecg.pipeline.EcgAnalysis.cut_at_record_edge`); ``fs``: Hz.
    """
    picked = np.flatnonzero(np.asarray(cut, dtype=bool))
    if picked.size == 0:
        return None
    beats = " and ".join(f"beat {i + 1} ({float(beat_samples[i]) / fs:.2f} s)" for i in picked)
    return (f"{beats[0].upper()}{beats[1:]} {'lies' if picked.size == 1 else 'lie'} within "
            f"{QRS_EDGE_MARGIN_S:g} s of the record's start or end, so part of {'its' if picked.size == 1 else 'their'}"
            f" QRS may be outside the recording: labelled Q (unclassifiable) by rule, not by the classifier, and "
            "left out of couplets, runs and bigeminy. Read them on the strip.")


def picked_beat_caption(cut: bool, n_networks: int, second_lead_name: str | None) -> str:
    """What the shading on a picked beat shows: Grad-CAM over ``n_networks`` networks (drawn on both leads when the
    two-lead classifier read ``second_lead_name`` too), or why a beat cut at the record's edge has none."""
    if cut:
        return ("No saliency: this beat's QRS is cut by the record's start or end, so it is labelled Q by rule and "
                "the classifier's output was not used.")
    both_leads = (f"Its two-lead networks also read lead {second_lead_name} at the same instants, so the same "
                  "shading is drawn on both leads: Grad-CAM weighs moments of the beat, not leads, and cannot say "
                  "which lead drove the call. " if second_lead_name else "")
    return ("Shading: Grad-CAM saliency, the samples that most drove this class "
            f"(over all {n_networks} networks of the ensemble, for their mean score). "
            "Saliency shows what the model used, not why the beat is abnormal. " + both_leads)
