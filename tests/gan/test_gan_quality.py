"""Quality figures of the generators: the page's plain-words summary, and the ECG card reproduced on real data."""

import json

import pytest

from medmodels.gan import quality
from medmodels.gan.generate import MODEL_DIRS


def _card(**per_class) -> dict:
    return {"name": "gan-ecg", "quality": {"per_class": per_class}}


def _row(closeness, within, p, recall):
    return {"memorised_fraction": closeness, "memorised_fraction_within_training": within,
            "memorised_within_training_p": p, "recall": recall}


def test_summary_says_no_copying_and_names_classes_that_repeat_their_training_patients():
    text, level = quality.originality_summary(_card(N=_row(0.88, 0.0, 1.0, 0.22), F=_row(0.32, 0.0, 1.0, 0.53)))
    assert level == "warning"
    assert "No sign of copying single training beats" in text
    assert "N 0.0 %" in text and "N 88.0 %, F 32.0 %" in text and "N 0.22, F 0.53" in text
    assert "**N: these beats repeat the training patients" in text  # F is neither close enough nor low enough in recall


def test_summary_flags_near_copies_only_beyond_chance():
    text, level = quality.originality_summary(_card(S=_row(0.02, 0.024, 0.0313, 0.9)))
    assert level == "info" and "No sign of copying" in text and "S 2.4 % (p = 0.03)" in text
    text, level = quality.originality_summary(_card(S=_row(0.02, 0.08, 0.0001, 0.9)))
    assert level == "warning" and "Possible near-copies of single training beats in S**" in text


def test_summary_is_empty_for_a_card_without_the_within_training_figures():
    assert quality.originality_summary(_card(N={"memorised_fraction": 0.5})) == ("", "info")


@pytest.mark.parametrize("modality", ["ct", "ecg"])
def test_committed_cards_carry_both_memorisation_references_and_print_them(modality):
    card = json.loads((MODEL_DIRS[modality] / "card.json").read_text())
    for row in card["quality"]["per_class"].values():
        if "fid" in row:
            assert 0.0 <= row["memorised_fraction_within_training"] <= 1.0
            assert 0.0 <= row["memorised_within_training_p"] <= 1.0
    assert "vs same pts" in quality.format_quality(card)
    # the CT GAN's held-out nodules are composites (real crops blended into real lung): never called real
    header, tstr = quality.format_quality(card).splitlines()[1], quality.tstr_text(card)
    if modality == "ct":
        assert "nodules composite" in header and "nodules composite" in tstr
        assert "held-out real" not in header and "test on real" not in tstr
    else:
        assert "vs held-out real samples" in header and tstr.startswith("Train on synthetic, test on real")
    assert any("than training samples to each other" in key for key in quality.quality_rows(card)[0])


@pytest.mark.parametrize("modality", ["ct", "ecg"])
def test_committed_weight_choice_is_what_training_writes(modality):
    """The card's account of the raw-vs-EMA choice is the one `finish` writes, not history a rerun would drop."""
    choice = json.loads((MODEL_DIRS[modality] / "card.json").read_text())["weights"]["choice"]
    assert set(choice) == {"scores_vs_training_data", "per_class", "chosen", "method"}
    assert choice["method"] == quality.CHOICE_METHOD
    means = {variant: sum(scores.values()) / len(scores) for variant, scores in choice["per_class"].items()}
    assert choice["chosen"] == min(means, key=means.get)
    assert all(abs(means[v] - choice["scores_vs_training_data"][v]) < 2e-3 for v in means)


def test_ecg_card_quality_table_reproduces_on_the_data(monkeypatch, ecg_generator):
    from data_paths import require_data
    from medmodels.gan import data

    require_data("ecg", "mitdb")
    splits = data.ecg_splits()  # float32; the card was measured from the float16 cache, hence the tolerances
    monkeypatch.setattr(data, "cached", lambda modality, refresh=False: splits)
    measured = quality.measure("ecg")
    card = json.loads((MODEL_DIRS["ecg"] / "card.json").read_text())["quality"]["per_class"]
    for name, row in card.items():
        for field in ("memorised_fraction", "memorised_fraction_within_training", "precision", "recall"):
            assert measured[name][field] == pytest.approx(row[field], abs=0.01), (name, field)
        assert measured[name]["fid"] == pytest.approx(row["fid"], rel=0.01), name
    # The claims the page makes of these figures
    assert all(row["memorised_within_training_p"] >= quality.COPY_ALPHA for row in measured.values())
    assert measured["V"]["memorised_fraction"] > 0.9 and measured["V"]["recall"] < 0.1
