"""CT benchmark: one 512×512 slice end to end, and a whole series; prints a table of medians.

    python bench/ct.py [--repeats 5]

Slice path: decode DICOM bytes → HU → lung mask → candidates → CNN scores →
Grad-CAM of the top 3. Series path: decode every slice → the same for all
slices with one batched CNN pass. Peer, timed in the same run: SimpleITK's
series reader decoding the same series (decode only), to put our decode cost
and the analysis cost side by side on this machine.
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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--series-repeats", type=int, default=2)
    args = parser.parse_args()

    import SimpleITK as sitk

    from medmodels import load_ct
    from medmodels.ct.gradcam import grad_cam
    from medmodels.ct_detector import CAM_LAYER, load_detector, patch_channels, score_series, score_slice
    from medmodels.ct_lidc import lidc_series

    start = time.perf_counter()
    detector = load_detector()
    load_s = time.perf_counter() - start
    files = lidc_series()["LIDC-IDRI-0001"]
    middle = files[len(files) // 2].read_bytes()

    def one_slice():
        image = load_ct(middle)
        scored = score_slice(image.hu[0], image.spacing[1:], detector)
        grad_cam(detector.keras_model, patch_channels(scored.patches[:3]), CAM_LAYER, 0)

    def whole_series():
        image = load_ct(files)
        score_series(image.hu, image.spacing[1:], detector)

    def sitk_decode():
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(files[0].parent)))
        reader.Execute()

    one_slice()  # warm-up: first Keras call traces the graph
    rows = [
        ("model load (once)", load_s),
        ("slice end to end (decode → Grad-CAM top 3)", median_time(one_slice, args.repeats)),
        (f"series end to end ({len(files)} slices)", median_time(whole_series, args.series_repeats)),
        (f"peer: SimpleITK decode only ({len(files)} slices)", median_time(sitk_decode, args.series_repeats)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  median (s)")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:10.3f}")
    print(f"series / SimpleITK decode ratio: {rows[2][1] / rows[3][1]:.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
