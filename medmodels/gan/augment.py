"""Augmentation experiments: does adding synthetic samples to real training data help?

``python -m medmodels.evaluate gan-augment {ecg,ct} [--arm real|synthetic|both] [--seeds ...]``

ECG: the beat classifier's own network and training step
(``medmodels.ecg.train.fit_classifier``: class weights, gain/noise augmentation)
on all DS1 beats for the committed classifier's epoch count (reduced budget: one
network, no cross-validation or ensemble), with and without synthetic S, V and F
beats, each arm with the same seeds; DS2 per-class F1 on beats located by the
reference annotations (argmax, so calibration does not matter).  CT: the detector's ``fit`` on fold A's
training patches (LIDC-IDRI-0001 + training patients' crops) with and without
synthetic nodule patches, a reduced epoch budget, patch AUC on the held-out
set (LIDC-IDRI-0003 and held-out patients' crops).  Each run's figures are
saved as JSON under ``.devdata-gan/augment/`` so arms can run separately.

DS2 is the ECG test split: its figures here are reported, not used to choose.
Nothing was adopted on them: the committed classifier is trained without
synthetic beats (its card's ``synthetic_beats`` is 0; its weights predate this
experiment) and the generator's weights were chosen by Fréchet distance to its
training data.
"""

from __future__ import annotations

import argparse
import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from medmodels.gan.data import CACHE_DIR

RESULTS_DIR = CACHE_DIR / "augment"
#: Seeds per arm: the committed figures used five for ECG (about a minute a run) and three for CT (about four).
SEEDS = {"ecg": (11, 12, 13, 14, 15), "ct": (11, 12, 13)}
#: Synthetic beats added per class (DS1 has about 940 S, 3,800 V and 415 F real beats).
ECG_SYNTHETIC = {"S": 2000, "V": 2000, "F": 1000}
#: Synthetic nodule patches added to fold A's ~2,700 real positives.
CT_SYNTHETIC_NODULES = 2500
#: Reduced detector budget for the CT arms (the committed detector uses 14 epochs).
CT_EPOCHS = 4


def synthetic_beats(seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic S/V/F beats in the classifier's input format with AAMI labels."""
    from medmodels.ecg import AAMI_CLASSES
    from medmodels.gan.generate import cached_generator

    gen = cached_generator("ecg")
    waves, rrs, labels = [], [], []
    for k, (cls, n) in enumerate(ECG_SYNTHETIC.items()):
        s = gen.sample(n, seed * 10 + k, cls)
        waves.append(s.values["waveform"])
        rrs.append(s.values["rr"])
        labels.append(np.full(n, AAMI_CLASSES.index(cls), np.int64))
    return {"waveform": np.concatenate(waves), "rr": np.concatenate(rrs)}, np.concatenate(labels)


def ds2_reference_f1(classifier) -> dict:
    """Per-class Se/+P/F1 on DS2 with beats located by the reference annotations (no detector pass).

    Reported only (DS2 is the test split): no choice is made on these figures.
    """
    from medmodels.ecg.agreement import class_metrics, confusion_matrix
    from medmodels.ecg.mitdb import DS2, reference_beats
    from medmodels.ecg.pipeline import analyse_ecg

    k = 6
    cm = np.zeros((k, k), dtype=np.int64)
    for record_id in DS2:
        raw, fs, samples, labels = reference_beats(record_id)
        result = analyse_ecg(raw, fs, classifier, beat_samples=samples)
        cm += confusion_matrix(labels, result.probabilities.argmax(axis=1))
    return class_metrics(cm)


def ecg_epochs() -> int:
    """The committed classifier's epoch count (its card), else the training default."""
    from medmodels.ecg.model import read_card
    from medmodels.ecg.train import EPOCHS

    return int(read_card().get("training", {}).get("epochs", EPOCHS))


def run_ecg(arm: str, seed: int) -> dict:
    from medmodels.ecg.mitdb import DS1
    from medmodels.ecg.model import BeatClassifier
    from medmodels.ecg.train import fit_classifier, record_dataset
    from medmodels.gan.data import committed_beat_spec
    from medmodels.gan.generate import cached_generator

    spec = committed_beat_spec()
    generator_input = cached_generator("ecg").card["input"]
    if (generator_input["before_samples"], generator_input["after_samples"], tuple(generator_input["rr_features"])) != (
            spec.before, spec.after, tuple(spec.rr_features)):
        raise RuntimeError("gan-ecg was trained for another classifier input spec; run `python -m medmodels.train gan-ecg`")
    x, y = record_dataset(DS1, spec)
    n_synthetic = 0
    if arm == "synthetic":
        extra_x, extra_y = synthetic_beats(seed)
        x = {k: np.concatenate([x[k], extra_x[k].astype(x[k].dtype)]) for k in x}
        y = np.concatenate([y, extra_y.astype(y.dtype)])
        n_synthetic = int(len(extra_y))
    epochs = ecg_epochs()
    model, _ = fit_classifier(x, y, epochs, seed, spec)
    metrics = ds2_reference_f1(BeatClassifier(model, 1.0, "", spec=spec))
    return {"arm": arm, "seed": seed, "epochs": epochs, "n_synthetic": n_synthetic,
            "f1": {c: metrics[c]["F1"] for c in ("N", "S", "V", "F")}, "accuracy": metrics["accuracy"]}


def run_ct(arm: str, seed: int) -> dict:
    from medmodels.ct.metrics import roc_auc
    from medmodels.ct_detector import Detector
    from medmodels.ct_detector_train import fit
    from medmodels.gan import data
    from medmodels.gan.generate import cached_generator

    train, held_out = data.cached("ct")
    x, y = train.patches, train.labels.astype(np.float32)
    n_synthetic = 0
    if arm == "synthetic":
        fake = cached_generator("ct").sample(CT_SYNTHETIC_NODULES, seed, "nodule").values["hu"]
        x, y = np.concatenate([x, fake]), np.concatenate([y, np.ones(len(fake), np.float32)])
        n_synthetic = len(fake)
    model = fit(x, y, seed, CT_EPOCHS, verbose=False)
    scores = Detector(model, "").probabilities(held_out.patches)
    return {"arm": arm, "seed": seed, "epochs": CT_EPOCHS, "n_synthetic": n_synthetic,
            "auc": round(roc_auc(held_out.labels, scores), 4)}


@lru_cache(maxsize=2)
def code_fingerprint(modality: str) -> str:
    """Hash of the downstream model's code and input spec: arms are paired only when it matches.

    The ECG classifier and CT detector are developed alongside; a saved run of an
    older version must not be compared with a fresh one.  Taken once per process,
    when the code it describes is imported.
    """
    import hashlib

    from medmodels.config import REPO_ROOT

    files = (sorted((REPO_ROOT / "medmodels" / "ecg").glob("*.py")) if modality == "ecg" else
             sorted((REPO_ROOT / "medmodels").glob("ct_detector*.py")))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    generator_card = REPO_ROOT / "assets" / "models" / f"gan-{modality}" / "card.json"
    if generator_card.exists():
        digest.update(json.dumps(json.loads(generator_card.read_text()).get("weights", {}), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def result_path(modality: str, arm: str, seed: int) -> Path:
    return RESULTS_DIR / f"{modality}-{code_fingerprint(modality)}-{arm}-{seed}.json"


def run(modality: str, arms, seeds, force: bool = False) -> list[dict]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in seeds:
        for arm in arms:
            path = result_path(modality, arm, seed)
            if path.exists() and not force:
                rows.append(json.loads(path.read_text()))
                continue
            started = time.time()
            row = (run_ecg if modality == "ecg" else run_ct)(arm, seed)
            row["seconds"] = round(time.time() - started)
            row["code_fingerprint"] = code_fingerprint(modality)
            path.write_text(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def summarise(modality: str, rows: list[dict]) -> dict:
    """Mean ± sd per arm (sample sd, ddof 1) of DS2 per-class F1 (ECG) or held-out patch AUC (CT)."""
    keys = ("N", "S", "V", "F") if modality == "ecg" else ("auc",)
    out = {}
    for arm in ("real", "synthetic"):
        mine = [r for r in rows if r["arm"] == arm]
        if not mine:
            continue
        values = {k: np.array([(r["f1"][k] if modality == "ecg" else r[k]) or 0.0 for r in mine], float) for k in keys}
        out[arm] = {"seeds": [r["seed"] for r in mine], "n_synthetic": mine[0]["n_synthetic"],
                    **{k: {"mean": round(float(v.mean()), 4 if modality == "ct" else 2),
                           "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4 if modality == "ct" else 2)}
                       for k, v in values.items()}}
    return out


#: How an arm is shown: the "real" arm's CT nodules are native or composite, so it is named by what it lacks.
ARM_LABELS = {"real": "training data only", "synthetic": "+ synthetic"}


def format_summary(modality: str, summary: dict) -> str:
    if modality == "ecg":
        lines = ["ECG augmentation: DS2 per-class F1 (%) on reference beats, mean ± sd over seeds (one network, "
                 "DS1, committed epoch count)",
                 f"{'arm':<22}{'N':>14}{'S':>14}{'V':>14}{'F':>14}"]
        for arm, s in summary.items():
            label = f"+{s['n_synthetic']} synthetic" if s["n_synthetic"] else ARM_LABELS.get(arm, arm)
            lines.append(f"{label:<22}" + "".join(f"{s[c]['mean']:>8.2f} ± {s[c]['sd']:<4.2f}" for c in "NSVF"))
    else:
        lines = [f"CT augmentation: held-out patch AUC, detector fit for {CT_EPOCHS} epochs, mean ± sd over seeds"]
        for arm, s in summary.items():
            label = f"+{s['n_synthetic']} synthetic nodules" if s["n_synthetic"] else ARM_LABELS.get(arm, arm)
            lines.append(f"{label:<28}{s['auc']['mean']:.4f} ± {s['auc']['sd']:.4f}  (seeds {s['seeds']})")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("modality", choices=("ecg", "ct"))
    parser.add_argument("--arm", choices=("real", "synthetic", "both"), default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: 5 seeds for ECG, 3 for CT")
    parser.add_argument("--force", action="store_true", help="re-run even when a saved result exists")
    parser.add_argument("--update-card", action="store_true", help="write the summary into the GAN's card")


def main(args: argparse.Namespace) -> int:
    arms = ("real", "synthetic") if args.arm == "both" else (args.arm,)
    rows = run(args.modality, arms, args.seeds or SEEDS[args.modality], args.force)
    summary = summarise(args.modality, rows)
    print(format_summary(args.modality, summary))
    if args.update_card:
        from medmodels.gan.quality import update_card_section

        update_card_section(args.modality, "augmentation", {"summary": summary, "runs": rows, "protocol": __doc__.split("\n\n")[1]})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m medmodels.gan.augment")
    add_arguments(parser)
    raise SystemExit(main(parser.parse_args()))
