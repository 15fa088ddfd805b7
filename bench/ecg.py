"""Benchmark the ECG path on a 30-minute two-lead MIT-BIH record.

``python bench/ecg.py [--record 119] [--repeats 7]``: times read → condition →
detect → classify every beat → Grad-CAM for every non-N beat (the whole path,
with the two-lead classifier as the product runs it on a record with MLII and
V1; the single-lead path beside it), the path as the page runs it (no bulk
saliency: Grad-CAM of the one beat a reviewer picks), its parts, model loading
and warm-up (separately), and on the same signal NeuroKit2's
``ecg_clean`` + ``ecg_peaks`` (if installed) and wfdb's ``xqrs_detect``.
Prints medians and ratios to our whole path.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import median_time  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", default="119")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    import numpy as np

    from medmodels.ecg.beats import MODEL_FS
    from medmodels.ecg.conditioning import condition_for_analysis, resample, to_rate
    from medmodels.ecg.mitdb import mitdb_dir
    from medmodels.ecg.model import load_classifier, model_dir_for
    from medmodels.ecg.pipeline import analyse_ecg, second_lead_for, warm_up
    from medmodels.ecg.qrs import detect_qrs
    from medmodels.ecg.quality import no_regular_beats_windows
    from medmodels.ecg.reading import choose_lead, read_record
    from medmodels.ecg.saliency import grad_cam

    path = mitdb_dir() / args.record
    if not path.with_suffix(".hea").exists():
        print(f"MIT-BIH record {path} not found (set MEDMODELS_DATA).")
        return 1
    load_s, warm_up_s, first_call_s, classifiers = {}, {}, {}, {}
    record = read_record(path)
    first = choose_lead(record.lead_names)
    second = second_lead_for(record.signal, record.lead_names, first)[0]
    if second is None:
        print(f"record {args.record} has no usable precordial second lead ({', '.join(record.lead_names)}).")
        return 1
    x = record.signal[:, first].astype(np.float64)
    x2 = record.signal[:, second].astype(np.float64)
    fs = record.fs
    for leads in (2, 1):
        start = time.perf_counter()
        classifiers[leads] = load_classifier(model_dir_for(leads))
        load_s[leads] = time.perf_counter() - start
        start = time.perf_counter()  # as the page does on load: traces the graphs for any batch size
        warm_up(classifiers[leads])
        warm_up_s[leads] = time.perf_counter() - start
        start = time.perf_counter()
        analyse_ecg(x, fs, classifiers[leads], second_lead_mv=x2 if leads == 2 else None, saliency_for_non_normal=True)
        first_call_s[leads] = time.perf_counter() - start
    classifier = classifiers[2]

    def whole_path(leads: int = 2, bulk_saliency: bool = True):
        rec = read_record(path)
        column = choose_lead(rec.lead_names)
        other = second_lead_for(rec.signal, rec.lead_names, column)[0] if leads == 2 else None
        return analyse_ecg(rec.signal[:, column], rec.fs, classifiers[leads],
                           second_lead_mv=None if other is None else rec.signal[:, other],
                           saliency_for_non_normal=bulk_saliency)

    def page_path():
        # The page classifies without bulk saliency and explains the one beat a reviewer picks.
        analysis = whole_path(bulk_saliency=False)
        picked = int(np.flatnonzero(np.array(analysis.labels) != "N")[0])
        return grad_cam(classifier.networks, {k: v[picked:picked + 1] for k, v in analysis.inputs.items()},
                        analysis.probabilities[picked:picked + 1].argmax(axis=1))

    result = whole_path()
    conditioned = condition_for_analysis(x, fs)
    beats = detect_qrs(x, fs)
    model_signal = resample(conditioned, fs, MODEL_FS)
    model_second = resample(condition_for_analysis(x2, fs), fs, MODEL_FS)
    inputs = classifier.inputs(model_signal, to_rate(beats, fs, MODEL_FS), model_second)
    non_normal = np.flatnonzero(np.array([lab != "N" for lab in result.labels]))
    subset = {k: v[non_normal] for k, v in inputs.items()}
    # The classes the pipeline passes in (without them Grad-CAM recomputes every network's logits eagerly).
    subset_classes = result.probabilities[non_normal].argmax(axis=1)

    rows = [
        (f"whole path, two leads ({record.lead_names[first]} + {record.lead_names[second]}; "
         "read→condition→detect→classify→saliency)", median_time(whole_path, args.repeats)),
        ("whole path, single-lead classifier", median_time(lambda: whole_path(1), args.repeats)),
        ("as the page runs it: two leads, no bulk saliency, Grad-CAM of one picked beat", median_time(
            page_path, args.repeats)),
        ("  read record", median_time(lambda: read_record(path), args.repeats)),
        ("  condition (0.5–40 Hz, notches)", median_time(lambda: condition_for_analysis(x, fs), args.repeats)),
        ("  detect QRS (ours)", median_time(lambda: detect_qrs(x, fs), args.repeats)),
        ("  no-regular-beats check (10 s windows)", median_time(
            lambda: no_regular_beats_windows(conditioned, beats, fs), args.repeats)),
        ("  classify all beats, two leads (inputs + model)", median_time(
            lambda: classifier.predict_proba(classifier.inputs(model_signal, to_rate(beats, fs, MODEL_FS), model_second)),
            args.repeats)),
        (f"  Grad-CAM for {non_normal.size} non-N beats", median_time(
            lambda: grad_cam(classifier.networks, subset, subset_classes), args.repeats)),
    ]
    try:
        import neurokit2 as nk

        def neurokit():
            cleaned = nk.ecg_clean(x, sampling_rate=int(fs))
            return nk.ecg_peaks(cleaned, sampling_rate=int(fs))

        rows.append(("NeuroKit2 ecg_clean + ecg_peaks", median_time(neurokit, args.repeats)))
    except ImportError:
        rows.append(("NeuroKit2 (not installed: pip install -r requirements-bench.txt)", float("nan")))
    from wfdb import processing

    rows.append(("wfdb xqrs_detect", median_time(lambda: processing.xqrs_detect(x, fs, verbose=False),
                                                 max(1, min(3, args.repeats)))))
    whole = rows[0][1]
    print(f"record {args.record}: {x.size / fs / 60:.1f} min at {fs:g} Hz, {beats.size} beats, "
          f"{non_normal.size} non-N; CPU threads {os.cpu_count()}")
    for leads in (2, 1):
        print(f"{'two-lead' if leads == 2 else 'single-lead'} model load {load_s[leads]:.3f} s; warm-up (graph "
              f"tracing, as on the page's load) {warm_up_s[leads]:.3f} s; first analyse call {first_call_s[leads]:.3f} s")
    print(f"{'step':78s} {'median s':>9s} {'/ whole path':>12s}")
    for name, seconds in rows:
        print(f"{name:78s} {seconds:9.3f} {seconds / whole:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
