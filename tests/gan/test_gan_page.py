"""The Synthetic samples page in AppTest: both modalities render, every sample is marked, quality shown."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _synthetic_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/synthetic.py")
    at.run()
    return at


def _annotation_texts(at: AppTest) -> list[str]:
    """Every label drawn on the page's figures: layout annotations and text traces."""
    import json

    texts = []
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        texts += [a.get("text", "") for a in figure.get("layout", {}).get("annotations", [])]
        for trace in figure.get("data", []):
            if isinstance(trace.get("text"), list):
                texts += [str(t) for t in trace["text"]]
    return texts


@pytest.mark.parametrize("modality, n_marked", [("CT nodule patches", 16), ("ECG beats", 16)])
def test_page_shows_marked_synthetic_samples_quality_and_statement(modality, n_marked, ct_generator, ecg_generator):
    at = _synthetic_page()
    at.radio[0].set_value(modality).run()
    assert not at.exception and not at.error
    assert "not for diagnosis" in at.warning[0].value
    texts = _annotation_texts(at)
    assert sum("SYNTHETIC" in t for t in texts) >= n_marked + 8  # the grid plus the interpolation strip
    assert len(at.dataframe) >= 1  # the quality table from the card
    labels = [b.label for b in at.get("download_button")]
    assert any("NPZ" in label or "CSV" in label for label in labels)


def _figure_data(at: AppTest, key_prefix: str) -> list:
    """The plotly traces of the page's charts whose widget key starts with ``key_prefix``, in page order."""
    import json

    # AppTest's element id is "$$ID-<hash>-<key>"
    return [json.loads(chart.proto.spec)["data"] for chart in at.get("plotly_chart")
            if chart.proto.id.split("-", 2)[-1].startswith(key_prefix)]


def test_page_class_and_seed_change_the_samples(ct_generator, ecg_generator):
    at = _synthetic_page()
    at.radio[0].set_value("ECG beats").run()
    mixed = _figure_data(at, "synthetic_strip_")
    assert mixed
    at.selectbox[0].set_value("V").run()
    assert not at.exception and not at.error
    texts = _annotation_texts(at)
    assert any("SYNTHETIC V" in t for t in texts) and not any("SYNTHETIC N" in t for t in texts)
    chosen_class = _figure_data(at, "synthetic_strip_")
    assert len(chosen_class) == len(mixed) and chosen_class != mixed  # the class changes the drawn beats
    held_out = _figure_data(at, "real_strip_")
    next(box for box in at.number_input if box.label == "Seed").set_value(123).run()
    assert not at.exception and not at.error
    reseeded = _figure_data(at, "synthetic_strip_")
    assert len(reseeded) == len(chosen_class) and reseeded != chosen_class  # so does the seed
    assert held_out and _figure_data(at, "real_strip_") == held_out  # the held-out beats do not depend on it


@pytest.mark.parametrize("modality, level, words", [
    ("ECG beats", "warning", "**S, V: these beats repeat the training patients"),
    ("CT nodule patches", "info", "no nodule 0.0 %, nodule 0.0 %"),
])
def test_page_says_above_the_samples_whether_they_copy_or_repeat_their_training_data(modality, level, words,
                                                                                      ct_generator, ecg_generator):
    at = _synthetic_page()
    at.radio[0].set_value(modality).run()
    messages = [m.value for m in at.get(level)]
    assert any("No sign of copying single training" in m and words in m for m in messages), messages


@pytest.mark.parametrize("cls, label, words", [
    ("nodule", "COMPOSITE · nodule", "Not whole real patches: real LIDC nodule crops"),
    ("no nodule", "REAL · no nodule", "Real patches of lung from series LIDC-IDRI-0003"),
])
def test_held_out_ct_examples_say_whether_they_are_real_patches_or_composites(cls, label, words, ct_generator):
    from data_paths import require_data

    require_data("ct", "lidc_crops")
    at = _synthetic_page()
    at.selectbox[0].set_value(cls).run()
    assert not at.exception and not at.error
    texts = _annotation_texts(at)
    assert sum(t == label for t in texts) == 8, texts
    assert not any(t == "REAL · nodule" for t in texts)
    assert any(words in c.value for c in at.caption)


def test_the_largest_seed_keeps_the_page_working(ct_generator, ecg_generator):
    """The interpolation's default end was seed + 1, above the inputs' maximum: the page crashed."""
    at = _synthetic_page()
    at.number_input[1].set_value(2**31 - 1).run()
    assert not at.exception and not at.error
    assert [n.value for n in at.number_input[2:4]] == [2**31 - 1, 2**31 - 2]
