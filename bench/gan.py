"""Benchmark the generators: 64 CT patches and 64 ECG beats after load, against peers in the same run.

``python bench/gan.py [--repeats 21]``: median time of ``generator.sample(64, seed)``
(latents, one batched generator call, rescaling to HU / mV) for each GAN, and as
peers the matching classifier's forward pass on the same 64 samples (the CT
detector's CNN, the ECG beat classifier) and the export of those samples to
files in memory (PNG + NPZ, CSV).  Target: ≤ 0.1 s per 64 samples on this CPU.
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

TARGET_S = 0.1
N = 64


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from medmodels.ct_detector import load_detector
    from medmodels.ecg.model import load_classifier
    from medmodels.gan.export import ct_npz, ecg_csv, patch_png
    from medmodels.gan.generate import load_generator

    rows = []
    start = time.perf_counter()
    ct, ecg = load_generator("ct"), load_generator("ecg")
    print(f"load both generators: {time.perf_counter() - start:.2f} s; backend {keras.backend.backend()}, "
          f"{os.cpu_count()} CPUs visible")
    detector, classifier = load_detector(), load_classifier()

    ct_samples = ct.sample(N, 0)  # warm-up: traces the compiled inference function once
    detector.probabilities(ct_samples.values["hu"])
    seeds = iter(range(1, 10_000))
    rows.append(("CT: 64 patches (gan-ct sample)", median_time(lambda: ct.sample(N, next(seeds)), args.repeats)))
    rows.append(("  peer: detector CNN on 64 patches", median_time(lambda: detector.probabilities(ct_samples.values["hu"]), args.repeats)))
    rows.append(("  peer: 64 PNG + 1 NPZ in memory", median_time(
        lambda: ([patch_png(p, "x") for p in ct_samples.values["hu"]], ct_npz(ct_samples)), max(3, args.repeats // 4))))

    ecg_samples = ecg.sample(N, 0)
    # The peer reads inputs in its own spec (which may differ from the generator's while the classifier evolves);
    # a forward pass costs the same whatever the values.
    spec = classifier.spec
    rng = np.random.default_rng(0)
    peer_inputs = {"waveform": rng.standard_normal((N, spec.length, 2)).astype(np.float32),
                   "rr": rng.uniform(0.5, 1.5, (N, len(spec.rr_features))).astype(np.float32)}
    classifier.predict_proba(peer_inputs)
    rows.append(("ECG: 64 beats (gan-ecg sample)", median_time(lambda: ecg.sample(N, next(seeds)), args.repeats)))
    rows.append(("  peer: beat classifier on 64 beats", median_time(lambda: classifier.predict_proba(peer_inputs), args.repeats)))
    rows.append(("  peer: CSV of 64 beats", median_time(lambda: ecg_csv(ecg_samples), args.repeats)))

    print(f"\n{'what':<40}{'median s':>10}{'ratio to generator':>20}")
    reference = None
    for name, seconds in rows:
        if not name.startswith(" "):
            reference = seconds
        ratio = "" if not name.startswith(" ") else f"{seconds / max(reference, 1e-9):.2f}×"
        print(f"{name:<40}{seconds:>10.4f}{ratio:>20}")
    for name, seconds in rows:
        if not name.startswith(" "):
            verdict = "meets" if seconds <= TARGET_S else "MISSES"
            print(f"{name}: {verdict} the ≤ {TARGET_S:g} s target ({seconds:.4f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
