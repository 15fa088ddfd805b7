"""AppTest drives every page: renders, example and upload paths, junk uploads show an error."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_paths import require_data
from medmodels.ct_detector import read_detector_card

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if path != "pages/home.py":
        at.switch_page(path)
        at.run()
    return at


def _charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def test_home_states_intended_use_models_and_device():
    at = _page("pages/home.py")
    assert not at.exception
    assert "not a diagnostic device" in at.warning[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "Models run on: **CPU" in text or "Models run on: **GPU" in text
    # every installed model says what it was trained and tested on, with its held-out figures
    from medmodels.model_cards import installed_cards

    assert text.count("**Held-out result:**") == len(installed_cards()) == 6
    assert "not recorded" not in text
    assert "Se/+P (%) V 94.23/84.49" in text and "LIDC-IDRI-0001: nodule ranked 4 of 80" in text
    assert "**CT nodule detector CNN (2-D patch)**" in text  # headed by its title, not "ct-nodule-detector"


@pytest.mark.parametrize("page", ["pages/ct.py", "pages/ecg.py"])
def test_pages_render_their_default_example(page):
    require_data()
    at = _page(page)
    assert not at.exception and not at.error
    assert len(_charts(at)) >= 1


def test_ct_upload_shows_the_slice_and_technical_metadata_only(ct_small):
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("slice.dcm", ct_small.read_bytes(), "application/dicom").run()
    assert not at.exception and not at.error
    assert len(_charts(at)) == 1
    shown = " ".join(str(t.value) for t in at.table)
    assert "CT" in shown and "CompressedSamples^CT1" not in shown  # patient name hidden
    # 5 mm slices: unlike the 2.5 mm series the detector was tested on, and the page says so
    assert [i.value for i in at.info if "This image differs in slice thickness (5 mm)" in i.value]
    at.toggle(key="reveal_dicom").set_value(True).run()
    revealed = [name for df in at.dataframe if "name" in df.value for name in df.value["name"]]
    assert "Patient's Name" in revealed


def test_ct_window_presets_and_series_slider():
    require_data("ct", "lidc")
    at = _page("pages/ct.py")
    labels = at.selectbox[0].options
    lidc = next(label for label in labels if "LIDC-IDRI-0001" in label)
    at.selectbox[0].set_value(lidc).run()
    assert not at.exception
    assert at.slider[0].max == 133
    at.slider[0].set_value(90).run()
    at.selectbox[1].set_value("Custom").run()
    assert not at.exception
    assert {"Width (HU)", "Level (HU)"} <= {n.label for n in at.number_input}


@pytest.mark.parametrize("junk", [b"", b"hello world" * 50, b"PK\x03\x04broken zip"])
def test_ct_junk_upload_shows_an_error_not_an_exception(junk):
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("junk.dcm", junk).run()
    assert not at.exception
    assert len(at.error) == 1 and not _charts(at)


def test_ct_mr_upload_is_viewable_with_a_warning():
    from pydicom.data import get_testdata_file

    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("mr.dcm", Path(get_testdata_file("MR_small.dcm")).read_bytes()).run()
    assert not at.exception and not at.error
    assert "CT analysis needs CT" in at.warning[0].value


def _with_pixel_spacing(path: Path, spacing: list[float] | None) -> bytes:
    """The DICOM file at ``path`` with its PixelSpacing replaced (None: removed), as bytes."""
    import io

    import pydicom

    ds = pydicom.dcmread(path)
    if spacing is None:
        del ds.PixelSpacing
    else:
        ds.PixelSpacing = spacing
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize(("spacing", "reason"), [([10.0, 10.0], "pixel spacing 10 × 10 mm is outside"),
                                                 (None, "no PixelSpacing tag")])
def test_ct_upload_with_an_implausible_or_missing_scale_is_shown_but_not_analysed(ct_small, spacing, reason):
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("slice.dcm", _with_pixel_spacing(ct_small, spacing), "application/dicom").run()
    assert not at.exception and not at.error
    assert len(_charts(at)) == 1
    assert [w.value for w in at.warning if reason in w.value]
    assert "Candidates on this slice" not in [h.value for h in at.subheader]
    if spacing is None:
        assert "**Pixel spacing** unknown (shown in pixels)" in " ".join(m.value for m in at.markdown)


def test_ecg_upload_shows_the_strip_with_reference_labels(mitdb):
    at = _page("pages/ecg.py")
    at.radio[0].set_value("Upload").run()
    for name in ("100.hea", "100.dat", "100.atr"):
        at.file_uploader[0].upload(name, (mitdb / name).read_bytes())
    at.run()
    assert not at.exception and not at.error
    assert len(_charts(at)) >= 4  # overview, strip with model classes, HR trend, agreement matrix
    captions = " ".join(c.value for c in at.caption)
    assert "reference annotations" in captions and "model class of each detected beat" in captions
    at.slider(key="ecg_start").set_value(600.0).run()
    assert not at.exception


def test_ecg_analysis_summarises_rhythm_and_agrees_with_the_reference(mitdb):
    from medmodels.ecg.model import TWO_LEAD_MODEL_DIR
    from medmodels.ecg.model import read_card as read_ecg_card

    at = _page("pages/ecg.py")
    label = next(label for label in at.selectbox[0].options if label.startswith("MIT-BIH 119"))
    at.selectbox[0].set_value(label).run()
    assert not at.exception and not at.error
    headers = [s.value for s in at.subheader]
    assert headers == ["Rhythm summary", "Beats", "Agreement with the reference annotations"]
    metrics = {m.label: m.value for m in at.metric}
    assert 55 <= float(metrics["Mean HR"].split()[0]) <= 80  # 119: about 66 bpm
    burden = next(df.value for df in at.dataframe if "burden (%)" in df.value)
    assert int(burden.set_index("class").loc["V", "beats"]) > 300  # 119 has 444 reference V beats
    # beside each count, how far to trust it: the held-out DS2 figures, with the same detector, of the card of the
    # classifier that ran: 119 has V1, so the two-lead one
    own = read_ecg_card(TWO_LEAD_MODEL_DIR)["metrics"]["test_metrics"]["own_detector"]
    assert burden.set_index("class").loc["S", "held-out +P (%)"] == own["S"]["+P"] == 39.56
    # and what a count of 0 means for a class the model mostly missed held-out
    assert any(f"found only {own['S']['Se']:.1f} % of S (supraventricular ectopic) beats" in w.value
               and "does not rule them out" in w.value for w in at.warning)
    assert any("the two-lead classifier read leads MLII and V1" in c.value for c in at.caption)
    # what the two-lead networks read is on the page: V1 drawn under MLII at the same instants
    assert any("on the same paper: lead V1" in c.value for c in at.caption)
    beats = next(df.value for df in at.dataframe if "p(V)" in df.value)
    assert beats["networks agreeing (of 6)"].between(0, 6).all()
    note = next(c.value for c in at.caption if c.value.startswith(
        "Networks agreeing: of the classifier's 6 networks (3 reading both leads and 3 the analysed lead only"))
    split, total = map(int, re.search(r"They split on (\d+) of (\d+) beats here", note).groups())
    assert total == sum(int(n) for n in burden["beats"]) and split < total / 10  # 119: they agree on almost every beat
    assert "where all agreed" in note  # with the card's DS2 figures for both groups
    assert any(c.value.startswith("Held-out: on MIT-BIH DS2 (22 records)") for c in at.caption)
    agreement = next(df.value for df in at.dataframe if "Se (%)" in df.value).set_index("class")
    assert agreement.loc["N", "Se (%)"] > 90 and agreement.loc["V", "Se (%)"] > 90
    # 119 has no reference Q beat, so its Q Se is undefined; the caption says what the empty cell means
    assert pd.isna(agreement.loc["Q", "Se (%)"])
    assert any("reference beats; beats matched within 150 ms" in c.value and "None: not defined" in c.value
               for c in at.caption)
    # 119 trained the classifier: the page must not let this agreement pass for a test result.
    assert any("Record 119 is one of the 22 MIT-BIH records (DS1)" in w.value for w in at.warning)
    second = next(box for box in at.selectbox if box.label == "Second lead")
    assert second.format_func(second.value) == "V1"
    second.select_index(0).run()  # "none": no second lead: the single-lead classifier, with its own card's figures
    assert not at.exception
    burden = next(df.value for df in at.dataframe if "burden (%)" in df.value)
    assert burden.set_index("class").loc["S", "held-out +P (%)"] == \
        read_ecg_card()["metrics"]["test_metrics"]["own_detector"]["S"]["+P"] == 39.77
    assert any("the single-lead classifier read this lead only" in c.value for c in at.caption)
    assert not any("on the same paper" in c.value for c in at.caption)
    held_out = next(label for label in at.selectbox[0].options if label.startswith("MIT-BIH 100"))
    at.selectbox[0].set_value(held_out).run()
    assert any("Record 100 is in MIT-BIH DS2" in i.value for i in at.info)
    assert not any("DS1" in w.value for w in at.warning)


def _ecg_sample(name: str) -> AppTest:
    """The ECG page with the example from ecg/samples whose label holds ``name`` analysed."""
    require_data("ecg", "samples")
    at = _page("pages/ecg.py")
    label = next(label for label in at.selectbox[0].options if name in label)
    at.selectbox[0].set_value(label).run()
    return at


def test_ecg_twelve_lead_example_offers_the_12_lead_layout():
    at = _ecg_sample("00841_hr")
    assert not at.exception
    assert "12-lead" in at.radio[1].options
    at.radio[1].set_value("12-lead").run()
    assert not at.exception
    assert len(_charts(at)) >= 1
    # the model's classes are marked in the print too (00841: 9 N and 1 V, the wide beat near 5 s)
    assert any(c.value.startswith("Coloured letters under the rhythm strip") for c in at.caption)
    assert "Too short for a per-minute heart-rate trend" in " ".join(c.value for c in at.caption)
    assert not any("MIT-BIH" in note.value for note in [*at.info, *at.warning])  # not a record the model saw


def test_ecg_beat_cut_by_the_record_start_is_labelled_q_and_the_page_says_why():
    at = _ecg_sample("17583_hr")
    assert not at.exception
    # 17583's first R peak is 24 ms into the recording: part of that QRS may lie before it
    captions = " ".join(c.value for c in at.caption)
    assert "Beat 1 (0.02 s) lies within 0.1 s of the record's start or end" in captions
    burden = next(frame.value for frame in at.dataframe if "burden (%)" in frame.value.columns)
    assert int(burden.set_index("class").loc["Q", "beats"]) == 1


def test_ecg_analysing_a_lead_other_than_ii_says_the_figures_do_not_apply():
    at = _ecg_sample("00841_hr")
    lead = next(box for box in at.selectbox if box.label == "Lead analysed")
    assert lead.format_func(lead.value) == "II"  # the default: the classifier's lead, so no note
    assert not any("was not measured" in note.value for note in at.info)
    lead.set_value(lead.options.index("V1")).run()  # the options are the lead names, the values their columns
    assert not at.exception
    assert any("lead V1 was not measured" in note.value for note in at.info)


@pytest.mark.parametrize(
    "files",
    [
        [("junk.bin", b"\x00\x01" * 100)],
        [("100.hea", b"100 2 0 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n")],
    ],
)
def test_ecg_junk_upload_shows_an_error_not_an_exception(files):
    at = _page("pages/ecg.py")
    at.radio[0].set_value("Upload").run()
    for name, data in files:
        at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and not _charts(at)


def test_ecg_physionet_source_reports_a_clear_error_when_offline(monkeypatch):
    import medmodels.wfdb_io as wfdb_io

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'physionet.org'")

    monkeypatch.setattr(wfdb_io.wfdb, "rdheader", offline)
    at = _page("pages/ecg.py")
    at.radio[0].set_value("PhysioNet (online)").run()
    at.button[0].click().run()
    assert not at.exception
    assert "Could not fetch mitdb/100 from PhysioNet" in at.error[0].value


def test_ct_slice_without_lung_fields_says_no_candidate_was_sought(ct_small):
    # CT_small is a 128 x 128 crop of the mediastinum: the lung mask needs the whole chest, so nothing is scored.
    at = _page("pages/ct.py")
    at.radio[0].set_value("Upload").run()
    at.file_uploader[0].upload("CT_small.dcm", ct_small.read_bytes(), "application/dicom").run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning if w.value.startswith("No lung fields were found on this slice")]
    captions = [c.value for c in at.caption]
    assert [c for c in captions if c.startswith("No candidates: none were sought on this slice")]
    assert not [c for c in captions if "No candidate above" in c]


def test_ct_example_whose_nodules_trained_the_malignancy_model_is_flagged():
    require_data("ct", "lidc")
    at = _page("pages/ct.py")
    at.selectbox[0].set_value(next(label for label in at.selectbox[0].options if "LIDC-IDRI-0003" in label)).run()
    assert not at.exception and not at.error
    assert "fold-A detector, trained on LIDC-IDRI-0001 only" in at.info[0].value
    (flag,) = [w.value for w in at.warning if "malignancy" in w.value]
    assert "were in the malignancy model's training split" in flag and "overstate" in flag


def test_ct_slice_without_candidates_does_not_say_it_holds_no_nodule():
    require_data("ct", "lidc")
    at = _page("pages/ct.py")
    lidc = next(label for label in at.selectbox[0].options if "LIDC-IDRI-0001" in label)
    at.selectbox[0].set_value(lidc).run()
    at.slider(key="ct_slice").set_value(2).run()  # below the lungs: no candidate is listed
    assert not at.exception and not at.error
    assert not any("nodule probability" in df.value for df in at.dataframe)
    note = next(c.value for c in at.caption if c.value.startswith("No candidate above 5 % on this slice."))
    assert "does not rule out a nodule" in note and "2 series with 4 reference nodules" in note


def test_ct_analysis_lists_candidates_zooms_with_grad_cam_and_scans_the_series():
    require_data("ct", "lidc")
    at = _page("pages/ct.py")
    lidc = next(label for label in at.selectbox[0].options if "LIDC-IDRI-0001" in label)
    at.selectbox[0].set_value(lidc).run()
    assert at.slider(key="ct_slice").value == 91  # an LIDC series opens at its reference nodule's central slice
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["Series", "Candidates on this slice"]
    # The final detector was trained on 0001: the page scores it with fold B (trained on 0003 only) and says so.
    assert "fold-B detector, trained on LIDC-IDRI-0003 only" in at.info[0].value
    table = next(df.value for df in at.dataframe if "nodule probability" in df.value)
    near = table[((table["row"] - 367).abs() < 16) & ((table["col"] - 316).abs() < 16)]  # LUNA16 centre of the nodule
    held_out = read_detector_card()["test_data"]["folds"]["fold-B"]["nodules"][0]
    assert int(near["rank"].min()) == held_out["rank_on_central_slice"] == 4  # the card's held-out rank, on the page
    nodule_row = near.loc[near["rank"].idxmin()]
    assert float(nodule_row["nodule probability"]) == pytest.approx(held_out["score_on_central_slice"], abs=0.002)
    reference = next(c.value for c in at.caption if c.value.startswith("Yellow dashed circle"))
    assert "23.4 mm reference nodule: the detector ranks it #4 of 80 candidates here" in reference
    scored = table.dropna(subset=["malignancy likelihood"])
    assert near.index[0] in scored.index  # the nodule itself is scored
    assert ((0 <= scored["malignancy likelihood"]) & (scored["malignancy likelihood"] <= 1)).all()
    low_high = scored["members' range"].str.split("–", expand=True).astype(float)
    assert ((low_high[0] <= scored["malignancy likelihood"] + 0.005)
            & (scored["malignancy likelihood"] <= low_high[1] + 0.005)).all()
    detector_caption = next(c.value for c in at.caption if c.value.startswith("Nodule probability"))
    assert "2 series with 4 LUNA16 reference nodules" in detector_caption and "LIDC-IDRI-0001: nodule ranked 4" \
        in detector_caption
    assert "Diameter: the blob scale that fits the candidate best, one of 3, 5, 8, 12, 18, 26 mm" in detector_caption
    malignancy_caption = next(c.value for c in at.caption if c.value.startswith("Malignancy likelihood"))
    from medmodels.ct.malignancy import read_card as read_malignancy_card

    test_auc = read_malignancy_card()["metrics"]["test"]
    assert f"AUC {test_auc['auc']:.4f} " in malignancy_caption  # 0.8499, not a rounded 0.85 that meets the target
    assert f"size alone reaches {test_auc['diameter_baseline_auc']:.3f}" in malignancy_caption  # beside the scores
    assert "consensus malignancy rating, not pathology" in malignancy_caption
    assert "validation patients' 148 reader crops" in malignancy_caption  # and what its stand-in outline does
    assert "lowered malignant nodules' likelihood by 0.11 or 0.23" in malignancy_caption  # and a too-small box
    # a candidate with too little dense tissue to score gets None, explained, not a score of empty lung
    assert (len(scored) < len(table)) == ("Malignancy likelihood None: less tissue" in malignancy_caption)
    assert any("malignancy model's held-out test split" in i.value for i in at.info)  # 0001 is a test patient
    at.number_input[-2].set_value(367)
    at.number_input[-1].set_value(316)
    next(t for t in at.toggle if t.label == "Zoom here").set_value(True).run()
    assert not at.exception
    assert any("Grad-CAM" in c.value for c in at.caption)
    at.button[0].click().run()  # analyse every slice
    assert not at.exception
    suspicious = next(s for s in at.selectbox if s.label == "Jump to a suspicious slice")
    assert len(suspicious.options) == 5


def _wfdb_upload(name: str, lead_mv, fs: int = 360) -> list[tuple[str, bytes]]:
    """A one-lead format-16 WFDB record (200 units per mV) as upload files, built in memory."""
    import numpy as np

    digital = np.round(np.asarray(lead_mv) * 200).astype("<i2")
    header = f"{name} 1 {fs} {digital.size}\n{name}.dat 16 200 16 0 {int(digital[0])} 0 0 MLII\n"
    return [(f"{name}.hea", header.encode()), (f"{name}.dat", digital.tobytes())]


def test_ecg_flat_lead_says_no_beats_were_found_instead_of_failing():
    import numpy as np

    at = _page("pages/ecg.py")
    at.radio[0].set_value("Upload").run()
    for name, data in _wfdb_upload("flat", np.zeros(3600)):
        at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception and not at.error
    assert any(w.value.startswith("No heartbeats were found on lead MLII") and "flat" in w.value for w in at.warning)
    assert "Rhythm summary" not in [s.value for s in at.subheader]


def test_ecg_noise_upload_warns_that_it_has_no_regular_beats():
    import numpy as np

    at = _page("pages/ecg.py")
    at.radio[0].set_value("Upload").run()
    for name, data in _wfdb_upload("noise", np.random.default_rng(0).normal(0, 1, 3600 * 3)):
        at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception and not at.error
    assert any(w.value.startswith("No regular beats in 100 % of this record") for w in at.warning)
    beats = next(df.value for df in at.dataframe if "in stretch without regular beats" in df.value)
    assert len(beats) > 0 and beats["in stretch without regular beats"].all()  # 80 beats found in this noise, 8 listed
