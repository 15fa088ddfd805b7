"""Quality of the committed generators on held-out data, written into their cards.

Held-out data are real beats (ECG) and real lung patches (CT no nodule); the CT
nodule class is composite: held-out patients' real nodule crops blended into the
real lung of the held-out series (``gan.data.ct_splits``), not whole real patches.

``python -m medmodels.evaluate gan {ct,ecg} [--update-card]`` prints the table; training
calls :func:`finish`, which first chooses between the raw and the EMA generator
weights by the Fréchet distance to the *training* data (never the held-out
data), then measures, per class and on the held-out split:

- domain FID: Fréchet distance in our classifier's penultimate features between
  synthetic samples and one half of the held-out samples, beside the floor
  (the other held-out half vs the same half, at the same size);
- precision / recall (Kynkäänniemi et al. 2019, k = 3) against the held-out set;
- memorisation against two references, each ≈ 1 % for a generator that copies nothing:
  the fraction of synthetic samples nearer (in scaled sample space) to a training
  sample than the 1st percentile of (a) held-out samples' nearest-training
  distances (other patients: also flags a generator that merely follows its
  training patients) and (b) training samples' distances to their nearest *other*
  training sample (the same patients: flags near-copies of single samples), with
  the one-sided binomial p-value of (b) against 1 %;
- TSTR vs TRTR: the downstream model trained only on synthetic samples vs only on
  the GAN's own training samples (same budget: real, and for CT nodules native or
  composite), scored on the held-out set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from medmodels.ecg.mitdb import TRAIN as ECG_TRAIN_RECORDS, VALIDATION as ECG_VALIDATION_RECORDS
from medmodels.gan import metrics
from medmodels.gan.generate import MODEL_DIRS, ecg_to_scaled, hu_to_scaled, load_generator

#: Synthetic samples per class for the measures (held-out classes larger than this are subsampled).
MAX_PER_CLASS = 2000
#: Seed of the synthetic samples used for the measures (not the seed of training).
EVAL_SEED = 7
#: TSTR/TRTR budgets.
TSTR_ECG_EPOCHS, TSTR_CT_EPOCHS = 6, 4
TSTR_SYNTHETIC_PER_CLASS = 3000
#: Seed of the training samples whose leave-one-out distances are the same-patient memorisation reference.
WITHIN_TRAINING_SEED = 107


def _features(modality: str, values: dict) -> np.ndarray:
    from medmodels.gan.features import ct_features, ecg_features

    return ct_features(values["hu"]) if modality == "ct" else ecg_features(values["waveform"], values["rr"])


def _real(modality: str, split) -> tuple[dict, np.ndarray]:
    if modality == "ct":
        return {"hu": split.patches}, split.labels
    return {"waveform": split.waveform, "rr": split.rr}, split.labels


def _flat(modality: str, values: dict, card: dict) -> np.ndarray:
    """Samples as flat vectors in the generator's scaled space (for nearest-neighbour distances)."""
    if modality == "ct":
        return hu_to_scaled(values["hu"]).reshape(len(values["hu"]), -1)
    w, r = ecg_to_scaled(values["waveform"], values["rr"], card["scaling"])
    return np.concatenate([w.reshape(len(w), -1), r], axis=1)


def _take(values: dict, index) -> dict:
    return {k: v[index] for k, v in values.items()}


def training_fid(modality: str, model_dir: Path, variant: str, per_class: int = 1000) -> dict:
    """Per-class Fréchet distance of a generator's samples to its *training* data (domain features).

    Used to choose weights (raw vs EMA, optimiser settings) without touching held-out data; the mean
    over classes penalises a generator whose classes look like each other, which a pooled distance
    with the right class mix can miss.
    """
    from medmodels.gan import data

    train, _ = data.cached(modality)
    real_values, labels = _real(modality, train)
    gen = load_generator(modality, model_dir, variant)
    scores = {}
    for k, name in enumerate(gen.classes):
        index = np.random.default_rng(EVAL_SEED + k).permutation(np.flatnonzero(labels == k))[:per_class]
        fake = gen.sample(len(index), EVAL_SEED + k, name)
        scores[name] = round(metrics.frechet_distance(_features(modality, fake.values),
                                                      _features(modality, _take(real_values, index))), 3)
    return {"per_class": scores, "mean": round(float(np.mean(list(scores.values()))), 3)}


def choose_variant(modality: str, model_dir: Path) -> dict:
    """Mean per-class FID to the training data of the raw and EMA weights; the card keeps the lower."""
    scores = {variant: training_fid(modality, model_dir, variant) for variant in ("raw", "ema")}
    return {"scores_vs_training_data": {v: s["mean"] for v, s in scores.items()},
            "per_class": {v: s["per_class"] for v, s in scores.items()},
            "chosen": min(scores, key=lambda v: scores[v]["mean"])}


def measure(modality: str, model_dir: Path | None = None) -> dict:
    """Per-class FID (with floor), precision, recall and memorisation on the held-out split."""
    from medmodels.gan import data

    gen = load_generator(modality, model_dir)
    train, held_out = data.cached(modality)
    train_values, train_labels = _real(modality, train)
    held_values, held_labels = _real(modality, held_out)
    train_flat = _flat(modality, train_values, gen.card)
    rows = {}
    for k, name in enumerate(gen.classes):
        mine = np.flatnonzero(held_labels == k)
        rng = np.random.default_rng(EVAL_SEED + k)
        mine = rng.permutation(mine)[:MAX_PER_CLASS]
        if len(mine) < 8:
            rows[name] = {"n_held_out": int(len(mine)), "note": "too few held-out samples"}
            continue
        real = _take(held_values, mine)
        fake = gen.sample(len(mine), EVAL_SEED + k, name)
        real_f, fake_f = _features(modality, real), _features(modality, fake.values)
        half = len(mine) // 2
        order = rng.permutation(len(mine))
        a, b = real_f[order[:half]], real_f[order[half:2 * half]]
        precision, recall = metrics.precision_recall(real_f, fake_f, k=3)
        fake_flat = _flat(modality, fake.values, gen.card)
        memo = metrics.memorisation(fake_flat, _flat(modality, real, gen.card), train_flat)
        within = _memorisation_within_training(fake_flat, train_flat, train_labels, k)
        # Reference: *training* samples of the class (CT nodules: native or composite) in place of synthetic
        # ones.  A generator that reproduced its training distribution perfectly would score about this; the gap to the floor
        # is the shift between training and held-out patients, which no generator trained here can close.
        train_mine = rng.permutation(np.flatnonzero(train_labels == k))[:len(mine)]
        train_f = _features(modality, _take(train_values, train_mine))
        ref_precision, ref_recall = metrics.precision_recall(real_f, train_f, k=3)
        rows[name] = {"n_held_out": int(len(mine)), "fid": round(metrics.frechet_distance(fake_f[:half], a), 3),
                      "fid_floor_real_halves": round(metrics.frechet_distance(b, a), 3),
                      "fid_training_real": round(metrics.frechet_distance(train_f[:half], a), 3),
                      "precision": round(precision, 3), "recall": round(recall, 3),
                      "precision_training_real": round(ref_precision, 3), "recall_training_real": round(ref_recall, 3),
                      "memorised_fraction": round(memo["fraction"], 4), **within}
    return rows


def _memorisation_within_training(fake_flat: np.ndarray, train_flat: np.ndarray, train_labels: np.ndarray,
                                  k: int) -> dict:
    """Card fields for the same-patient reference: the flagged fraction and its one-sided binomial p-value."""
    # Its own generator, so that adding this measure left the other figures' random draws unchanged.
    index = np.random.default_rng(WITHIN_TRAINING_SEED + k).permutation(np.flatnonzero(train_labels == k))
    memo = metrics.memorisation_within_training(fake_flat, train_flat, index[:MAX_PER_CLASS])
    flagged = int(memo["flagged"].sum())
    return {"memorised_fraction_within_training": round(memo["fraction"], 4),
            "memorised_within_training_p": round(metrics.excess_over_chance(flagged, memo["n"], memo["expected"]), 4)}


def tstr(modality: str, model_dir: Path | None = None) -> dict:
    """Train-on-synthetic vs train on the GAN's training samples, scored on the held-out split (CT nodules: composite)."""
    from medmodels.gan import data

    gen = load_generator(modality, model_dir)
    train, held_out = data.cached(modality)
    n = TSTR_SYNTHETIC_PER_CLASS * len(gen.classes)
    fake = gen.sample(n, EVAL_SEED)
    if modality == "ct":
        from medmodels.ct.metrics import roc_auc
        from medmodels.ct_detector import Detector
        from medmodels.ct_detector_train import fit

        out = {}
        for arm, (x, y) in {"TRTR": (train.patches, train.labels), "TSTR": (fake.values["hu"], fake.labels)}.items():
            model = fit(x, y.astype(np.float32), EVAL_SEED, TSTR_CT_EPOCHS, verbose=False)
            out[arm] = {"auc": round(roc_auc(held_out.labels, Detector(model, "").probabilities(held_out.patches)), 4),
                        "n_train": int(len(y))}
        out["protocol"] = (f"detector CNN (ct_detector_train.fit) trained {TSTR_CT_EPOCHS} epochs on fold-A patches "
                           f"(TRTR: real lung; nodules native or composite) or {n} synthetic patches (TSTR); patch AUC "
                           "on the held-out set (real lung; nodules composite: held-out patients' crops blended into "
                           "it)")
        return out
    from medmodels.ecg.agreement import class_metrics, confusion_matrix
    from medmodels.ecg.train import fit_classifier

    out = {}
    arms = {"TRTR": ({"waveform": train.waveform, "rr": train.rr}, train.labels),
            "TSTR": (fake.values, fake.labels)}
    for arm, (x, y) in arms.items():
        model, _ = fit_classifier(x, y, TSTR_ECG_EPOCHS, EVAL_SEED, data.committed_beat_spec())
        logits = np.asarray(model.predict(held_out.inputs(), batch_size=4096, verbose=0))
        m = class_metrics(confusion_matrix(held_out.labels, logits.argmax(axis=1)))
        out[arm] = {"f1": {c: (round(m[c]["F1"], 2) if m[c]["F1"] is not None else None) for c in gen.classes},
                    "accuracy": round(m["accuracy"], 2), "n_train": int(len(y))}
    out["protocol"] = (f"beat classifier (ecg.train.fit_classifier) trained {TSTR_ECG_EPOCHS} epochs on the real "
                       f"beats of the {len(ECG_TRAIN_RECORDS)} DS1 training records (TRTR) or {n} synthetic beats, "
                       f"{TSTR_SYNTHETIC_PER_CLASS} per class (TSTR); per-class F1 (%) on the held-out beats of "
                       f"{HELD_OUT_ECG_RECORDS}")
    return out


def feature_model_identity(modality: str) -> dict:
    """Which classifier's features the measures used (name, weights sha256, input spec)."""
    if modality == "ecg":
        from medmodels.ecg.model import cached_classifier

        c = cached_classifier()
        return {"name": c.name, "sha256": c.sha256, "layer": "head", "spec": c.spec.to_card()}
    from medmodels.ct_detector import DETECTOR_DIR, WEIGHTS_FILE
    from medmodels.model_cards import sha256_of

    return {"name": "ct-nodule-detector", "sha256": sha256_of(DETECTOR_DIR / WEIGHTS_FILE), "layer": "gap"}


def update_card_section(modality: str, key: str, value, model_dir: Path | None = None) -> None:
    path = Path(model_dir or MODEL_DIRS[modality]) / "card.json"
    card = json.loads(path.read_text())
    card.setdefault("quality", {})[key] = value
    path.write_text(json.dumps(card, indent=1) + "\n")


#: How :func:`finish` chooses between the raw and EMA generator weights, as it writes it into the card.
CHOICE_METHOD = "mean over classes of the Fréchet distance in domain features to up to 1,000 training samples per class"


def finish(modality: str, model_dir: Path | None = None, with_tstr: bool = True) -> dict:
    """Choose the weights, measure quality, write both into the card, print the table."""
    model_dir = Path(model_dir or MODEL_DIRS[modality])
    choice = choose_variant(modality, model_dir)
    path = model_dir / "card.json"
    card = json.loads(path.read_text())
    card["weights"]["variant"] = choice["chosen"]
    card["weights"]["choice"] = {**choice, "method": CHOICE_METHOD}
    path.write_text(json.dumps(card, indent=1) + "\n")
    quality = {"per_class": measure(modality, model_dir), "feature_model": feature_model_identity(modality)}
    if with_tstr:
        quality["tstr"] = tstr(modality, model_dir)
    for key, value in quality.items():
        update_card_section(modality, key, value, model_dir)
    update_card_section(modality, "notes", NOTES[modality], model_dir)
    print(format_quality(json.loads(path.read_text())))
    return quality


#: The GAN-ECG held-out records in words, for its card's notes and protocol.
HELD_OUT_ECG_RECORDS = (f"the {len(ECG_VALIDATION_RECORDS)} DS1 validation records "
                        f"({', '.join(ECG_VALIDATION_RECORDS)})")

NOTES = {
    "ct": "Features: the committed CT nodule detector's 'gap' layer (64). Held out: LIDC-IDRI-0003 and held-out "
          "patients' crops blended into it, so the nodule class is composite (real crops in real lung), not whole "
          "real patches. FID uses half the held-out class vs synthetic samples of the same size; the floor is "
          "the other held-out half. Memorisation distances are in scaled pixel space (64×64). 'Closer than new "
          "patients' uses held-out patches, which come from another series (another scanner session and patient), "
          "so its threshold includes that shift and it is an upper bound on copying; 'closer than training samples "
          "to each other' uses each training patch's nearest other training patch (the same patients) and is the "
          "test for near-copies. Both are about 1 % for a generator that copies nothing.",
    "ecg": "Features: the 'head' layer (32) of the committed ECG beat classifier's first network (of its "
           "ensemble of three). Held out: "
           f"{HELD_OUT_ECG_RECORDS}, other patients; F has few held-out beats, so its figures are rough. FID uses half the held-out class "
           "vs synthetic beats of the same size; the floor is the other real half. Memorisation distances are in "
           "the scaled input space (waveform channels + RR features), against two references, each about 1 % for a "
           "generator that copies nothing. 'Closer than new patients': held-out patients' beats sit far from every "
           "training beat, so synthetic beats that follow the training patients' morphology fall below this "
           "threshold even when they are not copies; a high fraction means 'reproduces the training patients'. "
           "'Closer than training beats to each other': each training beat's nearest other training beat (the same "
           "patients); a high fraction here would mean near-copies of single beats.",
}


#: What the CT GAN's held-out patches are: its nodule class is not whole real patches.
CT_HELD_OUT_WORDS = "real lung; nodules composite: real crops blended into real lung"


def _held_out_words(card: dict) -> str:
    return f"samples ({CT_HELD_OUT_WORDS})" if card.get("name") == "gan-ct" else "real samples"


def format_quality(card: dict) -> str:
    """The quality table of a card, as printed text."""
    quality = card.get("quality", {})
    lines = [f"{card.get('name')}: weights {card.get('weights', {}).get('variant')} "
             f"(choice by FID vs training data: {card.get('weights', {}).get('choice', {}).get('scores_vs_training_data')})",
             f"FID / precision / recall of synthetic samples vs held-out {_held_out_words(card)}; in brackets the "
             "same for training samples (the train→held-out shift); floor: held-out half vs held-out half",
             f"{'class':<11}{'n':>6}{'FID':>8}{'[train]':>9}{'floor':>7}{'precision':>11}{'[train]':>9}"
             f"{'recall':>8}{'[train]':>9}{'memorised: vs new pts':>22}{'vs same pts':>12}{'p':>8}"]
    for name, row in quality.get("per_class", {}).items():
        if "fid" not in row:
            lines.append(f"{name:<11}{row['n_held_out']:>6}  {row.get('note', '')}")
            continue
        lines.append(f"{name:<11}{row['n_held_out']:>6}{row['fid']:>8.2f}{row.get('fid_training_real', float('nan')):>9.2f}"
                     f"{row['fid_floor_real_halves']:>7.2f}{row['precision']:>11.3f}"
                     f"{row.get('precision_training_real', float('nan')):>9.3f}{row['recall']:>8.3f}"
                     f"{row.get('recall_training_real', float('nan')):>9.3f}{100 * row['memorised_fraction']:>21.2f}%"
                     f"{100 * row.get('memorised_fraction_within_training', float('nan')):>11.2f}%"
                     f"{row.get('memorised_within_training_p', float('nan')):>8.3f}")
    t = quality.get("tstr")
    if t:
        if "auc" in t.get("TRTR", {}):
            lines.append(f"TSTR patch AUC {t['TSTR']['auc']:.4f} vs TRTR {t['TRTR']['auc']:.4f}")
        else:
            lines.append("TSTR F1 " + ", ".join(f"{c} {v}" for c, v in t["TSTR"]["f1"].items())
                         + " | TRTR F1 " + ", ".join(f"{c} {v}" for c, v in t["TRTR"]["f1"].items()))
    aug = quality.get("augmentation")
    if aug:
        from medmodels.gan.augment import format_summary

        lines.append(format_summary("ct" if card.get("name") == "gan-ct" else "ecg", aug["summary"]))
    return "\n".join(lines)


def tstr_text(card: dict) -> str:
    """One line: train-on-synthetic vs train on the GAN's training samples, from the card."""
    t = card.get("quality", {}).get("tstr")
    if not t:
        return ""
    if "auc" in t.get("TRTR", {}):
        return (f"Train on synthetic, test on held-out patches ({CT_HELD_OUT_WORDS}): patch AUC {t['TSTR']['auc']:.3f} "
                f"(trained on the training patches, nodules native or composite: {t['TRTR']['auc']:.3f}).")
    f1 = lambda arm: ", ".join(f"{c} {v:.1f}" if v is not None else f"{c} –" for c, v in t[arm]["f1"].items())  # noqa: E731
    return f"Train on synthetic, test on real: F1 (%) {f1('TSTR')} (real-trained: {f1('TRTR')})."


def quality_rows(card: dict) -> list[dict]:
    """The per-class quality as table rows (for the page)."""
    rows = []
    for name, row in card.get("quality", {}).get("per_class", {}).items():
        rows.append({"class": name, "held-out n": row.get("n_held_out"), "FID": row.get("fid"),
                     "FID of training samples": row.get("fid_training_real"),
                     "FID floor (held-out halves)": row.get("fid_floor_real_halves"), "precision": row.get("precision"),
                     "recall": row.get("recall"), "precision / recall of training samples":
                         f"{row.get('precision_training_real')} / {row.get('recall_training_real')}",
                     "nearer to training than held-out patients are (%)":
                         _percent_or_none(row.get("memorised_fraction")),
                     "nearer to one training sample than training samples to each other (%)":
                         _percent_or_none(row.get("memorised_fraction_within_training"))})
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("modality", choices=("ct", "ecg"))
    parser.add_argument("--recompute", action="store_true", help="re-measure on the data (else print the card's figures)")
    parser.add_argument("--no-tstr", action="store_true")


def main(args: argparse.Namespace) -> int:
    if args.recompute:
        finish(args.modality, with_tstr=not args.no_tstr)
        return 0
    from medmodels.gan.generate import read_card

    print(format_quality(read_card(args.modality)))
    return 0


def _percent_or_none(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 2)


#: One-sided binomial p-value below which a class's within-training fraction counts as more than chance.
COPY_ALPHA = 0.01
#: A class whose samples are mostly this close to the training data (vs held-out patients) and cover at most
#: this recall of held-out patients is described as repeating its training patients.
REPEATS_CLOSENESS, REPEATS_RECALL = 0.5, 0.25
_NOUNS = {"gan-ecg": "beats", "gan-ct": "patches"}


def _class_list(per_class: dict, field: str, fmt) -> str:
    return ", ".join(f"{name} {fmt(row[field])}" for name, row in per_class.items() if row.get(field) is not None)


def _percent_text(fraction: float) -> str:
    return f"{100 * fraction:.1f} %"


def _closeness_paragraph(per_class: dict, noun: str) -> tuple[str, list[str]]:
    """How near the synthetic samples sit to the training patients, and which classes repeat them."""
    repeating = [name for name, row in per_class.items()
                 if row["memorised_fraction"] >= REPEATS_CLOSENESS and row.get("recall", 1.0) <= REPEATS_RECALL]
    headline = (f"**{', '.join(repeating)}: these {noun} repeat the training patients' shapes rather than show new "
                f"patients.**" if repeating else "**Closeness to the training patients:**")
    text = (f"{headline} Synthetic {noun} nearer to the training data than 99 % of held-out patients' {noun}: "
            f"{_class_list(per_class, 'memorised_fraction', _percent_text)} (about 1 % for {noun} that differ from "
            f"the training data as much as new patients do). Share of the held-out patients' variety they cover "
            f"(recall): {_class_list(per_class, 'recall', '{:.2f}'.format)}.")
    return text, repeating


def _copying_paragraph(per_class: dict, noun: str) -> tuple[str, list[str]]:
    """Whether synthetic samples sit nearer to single training samples than chance allows, and which classes do."""
    excess = [name for name, row in per_class.items() if row["memorised_within_training_p"] < COPY_ALPHA]
    within = ", ".join(f"{name} {_percent_text(row['memorised_fraction_within_training'])}"
                       + (f" (p = {row['memorised_within_training_p']:.2f})"
                          if row["memorised_fraction_within_training"] > 0.01 else "")
                       for name, row in per_class.items())
    headline = (f"**Possible near-copies of single training {noun} in {', '.join(excess)}** (above chance at "
                f"p < {COPY_ALPHA:g})." if excess else
                f"**No sign of copying single training {noun}** (no class above chance at p < {COPY_ALPHA:g}).")
    text = (f"{headline} Synthetic {noun} nearer to one training sample than 99 % of training {noun} are to their "
            f"nearest other: {within} (about 1 % for new {noun} from the same patients).")
    return text, excess


def originality_summary(card: dict) -> tuple[str, str]:
    """What the memorisation and recall figures of a card mean, in plain words, for the samples page.

    Returns (markdown, level): level is ``"warning"`` when some class has more samples near
    single training samples than chance allows (one-sided binomial p < ``COPY_ALPHA`` against
    the ≈ 1 % expected) or repeats its training patients (closeness ≥ ``REPEATS_CLOSENESS`` to the
    training data with recall ≤ ``REPEATS_RECALL``), else ``"info"``; ("", "info") when the card
    has no within-training figures.
    """
    per_class = {name: row for name, row in card.get("quality", {}).get("per_class", {}).items()
                 if "memorised_fraction_within_training" in row}
    if not per_class:
        return "", "info"
    noun = _NOUNS.get(card.get("name"), "samples")
    closeness, repeating = _closeness_paragraph(per_class, noun)
    copying, excess = _copying_paragraph(per_class, noun)
    return f"{closeness}\n\n{copying}", "warning" if excess or repeating else "info"
