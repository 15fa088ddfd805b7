"""Model cards: data that lives beside each model's weights in assets/models/<name>/card.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .config import MODELS_DIR


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def member_files(model_dir: Path, weights_file: str) -> list[Path]:
    """An ensemble's weights: ``<stem>.weights.h5``, then ``<stem>.member1.weights.h5``, … that exist.

    Members are in their number's order (member10 after member9, not after member1).
    """
    first = Path(model_dir) / weights_file
    stem = weights_file.removesuffix(".weights.h5")
    numbered = {}
    for path in Path(model_dir).glob(f"{stem}.member*.weights.h5"):
        number = path.name[len(stem) + len(".member"):-len(".weights.h5")]
        if number.isdigit():
            numbered[int(number)] = path
    return [first, *(numbered[k] for k in sorted(numbered))]


def member_paths(model_dir: Path, weights_file: str, count: int) -> list[Path]:
    """Where an ensemble of ``count`` is saved: ``weights_file``, then ``<stem>.member1.weights.h5``, …

    The names :func:`member_files` reads back.
    """
    stem = weights_file.removesuffix(".weights.h5")
    return [Path(model_dir) / weights_file] + [Path(model_dir) / f"{stem}.member{m}.weights.h5" for m in range(1, count)]


def installed_cards(models_dir: Path = MODELS_DIR) -> list[dict]:
    """Every model card found under ``models_dir``, each with its folder name as ``_dir``."""
    cards = []
    for card_path in sorted(models_dir.glob("*/card.json")):
        try:
            card = json.loads(card_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        cards.append({**card, "_dir": card_path.parent.name})
    return cards


def card_summary(card: dict) -> dict[str, str]:
    """One table row describing a card: name, task, training data, test split, held-out figures, version."""
    def text(value) -> str:
        if isinstance(value, dict):
            return str(value.get("summary") or value.get("name") or ", ".join(f"{k}: {v}" for k, v in value.items()))
        return "" if value is None else str(value)

    return {
        "model": text(card.get("title") or card.get("name", card.get("_dir", ""))),
        "task": text(card.get("task", "")),
        "trained on": text(card.get("training_data", "")),
        "tested on": text(card.get("test_data") or card.get("held_out_data", "")),
        "held-out result": held_out_headline(card),
        "version": text(card.get("version", "")),
    }


def held_out_headline(card: dict) -> str:
    """The card's main held-out figures in one line, "" when it has none: what a reviewer asks first.

    Each model family stores its figures in its own structure (written by its
    evaluation command); the first reader that finds its structure answers.
    """
    for read in (_beat_classifier_figures, _malignancy_figures, detector_held_out_figures, _generator_figures):
        text = read(card)
        if text:
            return text
    return ""


def _beat_classifier_figures(card: dict) -> str:
    own = card.get("metrics", {}).get("test_metrics", {}).get("own_detector")
    if not own:
        return ""
    classes = ", ".join(f"{c} {_number(own[c].get('Se'))}/{_number(own[c].get('+P'))}" for c in ("V", "S") if c in own)
    text = f"DS2, beats found by its own detector: Se/+P (%) {classes}"
    return text + (f"; accuracy {own['accuracy']:g} %" if own.get("accuracy") is not None else "")


def _number(value) -> str:
    """A figure as the card holds it, or "–" where it has none (a class the model never predicted has no +P)."""
    return "–" if value is None else f"{value:g}"


def _malignancy_figures(card: dict) -> str:
    test = card.get("metrics", {}).get("test", {})
    if "auc" not in test:
        return ""
    # Four decimals: the committed 0.8499 is just under the 0.85 target, and 0.85 or 0.850 would read as meeting it.
    text = f"test patients ({test.get('patients', '?')}): AUC {test['auc']:.4f}"
    if "auc_ci95" in test:
        text += " (95 % CI {:.3f}–{:.3f})".format(*test["auc_ci95"])
    if "diameter_baseline_auc" in test:
        text += f"; nodule size alone {test['diameter_baseline_auc']:.3f}"
    return text


def detector_held_out_figures(card: dict) -> str:
    """The nodule detector card's held-out figures, headed "held-out series, " for Home ("" without folds)."""
    figures = detector_fold_figures(card)
    return f"held-out series, {figures}" if figures else ""


def detector_fold_figures(card: dict) -> str:
    """The nodule detector card's held-out ranks and patch AUC per held-out series ("" without folds).

    Where a fold keeps ``with_all_candidates_averaged`` (the untuned inference rule), its ranks stand
    beside the committed rule's, whose test-time-averaging cut-off was set after seeing a held-out rank.
    """
    folds = card.get("test_data", {}).get("folds", {})
    parts = []
    for fold in folds.values():
        nodules = fold.get("nodules", [])
        if not nodules:
            continue
        ranks = ", ".join(str(n["rank_on_central_slice"]) for n in nodules)
        part = (f"{fold.get('test', '?')}: nodule{'s' if len(nodules) > 1 else ''} ranked {ranks} of "
                f"{nodules[0].get('candidates_on_slice', '?')} candidates on {'their' if len(nodules) > 1 else 'its'} "
                "central slice")
        untuned = fold.get("with_all_candidates_averaged", {}).get("ranks")
        if untuned:
            part += f" (untuned rule: {', '.join(str(r) for r in untuned)})"
        if "auc" in fold.get("patch_auc", {}):
            part += f", patch AUC {fold['patch_auc']['auc']:.3f}"
        parts.append(part)
    if not parts:
        return ""
    text = "; ".join(parts)
    if any("with_all_candidates_averaged" in fold for fold in folds.values()):
        text += ("; the first ranks average test-time views only for each slice's best candidates, a cut-off set "
                 "after seeing a held-out nodule's rank, so they are tuned on these series; the untuned rule "
                 "averages every candidate")
    return text


def _generator_figures(card: dict) -> str:
    tstr = card.get("quality", {}).get("tstr", {})
    synthetic, real = tstr.get("TSTR", {}), tstr.get("TRTR", {})
    if "auc" in synthetic and "auc" in real:
        return (f"a detector trained on synthetic patches, tested on held-out ones (real lung; nodules composite: "
                f"real crops blended into real lung): AUC {synthetic['auc']:.2f} (trained on the training patches, "
                f"nodules native or composite: {real['auc']:.2f})")
    if "accuracy" in synthetic and "accuracy" in real:
        f1 = ", ".join(f"{c} {synthetic['f1'][c]:.0f} vs {real['f1'][c]:.0f}"
                       for c in ("S", "V") if c in synthetic.get("f1", {}) and c in real.get("f1", {}))
        return (f"a beat classifier trained on synthetic beats, tested on real held-out ones: accuracy "
                f"{synthetic['accuracy']:.1f} % (trained on real: {real['accuracy']:.1f} %)"
                + (f"; F1 (%) synthetic vs real training {f1}" if f1 else ""))
    return ""
