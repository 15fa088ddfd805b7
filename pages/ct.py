"""CT page: view a DICOM slice/series in HU and, for CT, find and rank nodule candidates."""

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from medmodels import InputError, cache, load_ct
from medmodels.ct.gradcam import grad_cam
from medmodels.ct_analysis_view import analysis_figure, probability_map, zoom_figure
from medmodels.ct_detector import (
    CAM_LAYER, detector_choice, patch_channels, score_series, score_slice,
)
from medmodels.ct_lidc import reference_nodules
from medmodels.ct_review import (
    DIAMETER_NOTE, candidate_table, clicked_pixel, detector_performance_note, malignancy_caption,
    malignancy_of_candidates, no_candidate_note, no_lung_fields_note, patch_at, point_label, references_on_slice,
    series_strip_figure, start_slice, suspicious_slices, zoom_source,
)
from medmodels.ct_scope import analysis_refusal, untested_acquisition_note
from medmodels.ct_view import ct_slice_figure
from medmodels.lung_mask import lung_outline
from medmodels.model_cards import card_summary
from medmodels.provenance import malignancy_series_provenance
from medmodels.text import CT_UPLOAD_HELP, INTENDED_USE
from medmodels.windowing import PRESETS, Window
from pages import picked_row, reveal_toggle, run_through_router, show_note, show_provenance

run_through_router()

st.title("CT review")
st.caption(INTENDED_USE)


def choose_image():
    """The image picked or uploaded and a key identifying it; (None, None) if none yet."""
    source = st.radio("Source", ["Example", "Upload"], horizontal=True)
    if source == "Upload":
        files = st.file_uploader("DICOM files or zip", accept_multiple_files=True, help=CT_UPLOAD_HELP)
        if not files:
            st.info(CT_UPLOAD_HELP)
            return None, None
        with st.spinner("Reading DICOM…"):
            image = cache.memoised_upload("ct", files, lambda fs: load_ct(list(fs), require_ct=False))
        return image, ("upload", cache.upload_key(files))
    label = st.selectbox("Example", cache.example_labels("ct"))
    return cache.example_ct(label), ("example", label)


def choose_window(image) -> Window:
    preset = st.selectbox("Window", [*PRESETS, "Custom"], index=0 if image.is_ct else len(PRESETS))
    if preset != "Custom":
        return PRESETS[preset]
    low, high = float(np.nanmin(image.hu)), float(np.nanmax(image.hu))
    span = max(high - low, 1.0)
    default = PRESETS["Lung"] if image.is_ct else Window(span, (high + low) / 2)
    # The bounds widen with the image: a 16-bit radiograph or a rescaled MR spans more than any CT window.
    unit = "HU" if image.is_ct else "stored value"
    width = st.number_input(f"Width ({unit})", min_value=1.0, max_value=max(10000.0, 2 * span),
                            value=float(default.width))
    level = st.number_input(f"Level ({unit})", min_value=min(-5000.0, low - span), max_value=max(70000.0, high + span),
                            value=float(default.level))
    return Window(width, level)


def detector_for(image):
    """(detector, provenance): the fold model that held this series out if the final model trained on it."""
    fold, provenance = detector_choice(image.series_uid)
    try:
        return cache.ct_detector(fold), provenance
    except FileNotFoundError:
        return None, None


def jump_to(slice_index: int) -> None:
    st.session_state["ct_slice"] = slice_index + 1


def chose_zoom(source: str) -> None:
    """Callback: the user last chose a table candidate or a point to zoom on (the later choice wins)."""
    st.session_state["ct_zoom_chosen"] = source


def zoom_on_click(chart_key: str, shape: tuple[int, int], spacing_mm: tuple[float, float]) -> None:
    """Callback of the slice figure: a click on it sets the zoom point (the row/col boxes show it)."""
    event = st.session_state.get(chart_key)
    pixel = clicked_pixel(event["selection"]["points"] if event else [], shape, spacing_mm)
    if pixel is not None:
        st.session_state["ct_point_row"], st.session_state["ct_point_col"] = pixel
        st.session_state["ct_zoom_here"] = True
        chose_zoom("point")


def reset_zoom_point(image, image_key) -> None:
    """A new image opens with no point chosen, the row/col boxes at its centre."""
    if st.session_state.get("ct_point_of") != image_key:
        st.session_state["ct_point_of"] = image_key
        st.session_state["ct_point_row"], st.session_state["ct_point_col"] = (n // 2 for n in image.hu.shape[1:])
        st.session_state["ct_zoom_here"] = False
        st.session_state["ct_zoom_chosen"] = None


try:
    image, image_key = choose_image()
except InputError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.caption(CT_UPLOAD_HELP)
    image, image_key = None, None

if image is not None:
    if not image.is_ct:
        st.warning(f"This is a {image.modality or 'non-CT'} image, shown for viewing only; CT analysis needs CT.")
    if image.skipped:
        with st.expander(f"{len(image.skipped)} file(s) of the upload were left out"):
            st.dataframe(pd.DataFrame(image.skipped, columns=["file", "reason"]), hide_index=True)
    for note in image.notes:
        show_note(note, False, ":material/info:")
    refusal = analysis_refusal(image) if image.is_ct else None
    if refusal:
        st.warning(refusal)
    # Once per image, not on every widget change: the choice reads the card and the installed fold files.
    detector, provenance = (cache.memoised("ct-detector", image_key, lambda: detector_for(image))
                            if image.is_ct and not refusal else (None, None))
    show_provenance(provenance)
    untested = untested_acquisition_note(image, cache.model_card("ct-detector")) if detector else None
    if untested:
        show_note(untested, False, ":material/info:")
    scores = cache.memoised("ct-scores", image_key, dict) if detector else {}
    references = cache.memoised("ct-references", image_key, lambda: reference_nodules(image.series_uid))

    left, right = st.columns([3, 1])
    with right:
        window = choose_window(image)
        st.caption(f"W {window.width:g} / L {window.level:g}")
        index = 0
        if image.n_slices > 1:
            if st.session_state.get("ct_slice_of") != image_key:  # a new image opens at its own start slice
                st.session_state["ct_slice_of"] = image_key
                st.session_state["ct_slice"] = start_slice(image, references) + 1
            st.session_state["ct_slice"] = min(st.session_state["ct_slice"], image.n_slices)
            index = st.slider("Slice", 1, image.n_slices, key="ct_slice") - 1
        z_mm, row_mm, col_mm = image.spacing
        pixel_spacing = f"{row_mm:.3f} × {col_mm:.3f} mm" if image.pixel_spacing_known else "unknown (shown in pixels)"
        st.markdown(
            f"**Slice** {index + 1} of {image.n_slices} · z = {image.slice_z_mm[index]:.1f} mm  \n"
            f"**Pixel spacing** {pixel_spacing}  \n"
            f"**Slice spacing** {z_mm:.2f} mm"
        )
        opacity = st.slider("Heat-map opacity", 0.0, 1.0, 0.45, 0.05) if detector else 0.0
        st.markdown("**Technical metadata**")
        st.table(pd.DataFrame(image.metadata.items(), columns=["tag", "value"]).set_index("tag"))

    scored = None
    if detector is not None:
        reset_zoom_point(image, image_key)
        if index not in scores:
            with st.spinner("Finding nodule candidates…"):
                scores[index] = score_slice(image.hu[index], (row_mm, col_mm), detector)
        scored = scores[index]

    with left:
        title = f"{image.modality} · slice {index + 1}/{image.n_slices}"
        if scored is None:
            fig = ct_slice_figure(image.hu[index], (row_mm, col_mm), window, invert=image.inverted, title=title,
                                  spacing_known=image.pixel_spacing_known)
        else:
            heat = probability_map(image.hu.shape[1:], scored.rows, scored.cols, scored.diameters_mm,
                                   scored.probabilities, scored.lung, pixel_mm=(row_mm, col_mm))
            listed = candidate_table(scored, index + 1)
            on_slice = references_on_slice(references, image, index, scored)
            fig = analysis_figure(image.hu[index], (row_mm, col_mm), window, heat, lung_outline(scored.lung),
                                  opacity=opacity, title=title,
                                  candidates=(listed["row"], listed["col"], [f"#{r}" for r in listed["rank"]]),
                                  references=[(r.row, r.col, max(r.radius_mm, 2.0)) for r in on_slice])
        if scored is None:
            st.plotly_chart(fig, width="stretch", key="ct_slice_figure")
        else:
            # Keyed by image and slice: a click picks a pixel of this slice, not of the next one shown.
            chart_key = f"ct_slice_figure:{image_key}:{index}"
            st.plotly_chart(fig, width="stretch", key=chart_key, selection_mode="points",
                            on_select=partial(zoom_on_click, chart_key, image.hu.shape[1:], (row_mm, col_mm)))
        if scored is not None and not scored.lung.any():
            st.warning(no_lung_fields_note(image.hu[index]))
        elif scored is not None:
            st.caption("Green: lung fields found automatically. Colour: nodule probability of each candidate "
                       "(a Gaussian of its estimated size). Cyan circles: listed candidates.")
            if on_slice:
                st.caption("Yellow dashed circle, for teaching: the LUNA16 reference (a nodule accepted by at least 3 "
                           "of 4 LIDC radiologists). " + "; ".join(r.describe(len(scored.probabilities)) + "."
                                                                  for r in on_slice))

    if detector is not None and image.n_slices > 1:
        st.subheader("Series")
        analysed = [float(scores[k].max_probability) if k in scores else None for k in range(image.n_slices)]
        if any(p is None for p in analysed) and st.button("Analyse every slice"):
            progress = st.progress(0.0, text="Analysing the series…")
            results = score_series(image.hu, (row_mm, col_mm), detector,
                                   progress=lambda done, total: progress.progress(
                                       done / total, text=f"Preparing slice {done} of {total}…"))
            scores.update(enumerate(results))
            progress.empty()
            analysed = [float(scores[k].max_probability) for k in range(image.n_slices)]
        st.plotly_chart(series_strip_figure(analysed, index), width="stretch", config={"displayModeBar": False})
        suspects = suspicious_slices(analysed)
        if suspects:
            picked = st.selectbox("Jump to a suspicious slice", suspects, index=None, placeholder="most suspicious first",
                                  format_func=lambda k: f"slice {k + 1}: max p {analysed[k]:.2f}")
            if picked is not None and picked != index and st.session_state.get("ct_jumped") != picked:
                st.session_state["ct_jumped"] = picked
                jump_to(picked)
                st.rerun()

    if scored is not None:
        st.subheader("Candidates on this slice")
        malignancy_model = cache.ct_malignancy()
        # Memoised per slice like the detector scores: the 8-view malignancy CNN must not rerun on every widget change.
        malignancies = cache.memoised("ct-malignancy", image_key, dict)
        if malignancy_model is not None and index not in malignancies:
            malignancies[index] = malignancy_of_candidates(malignancy_model, image.hu[index], (row_mm, col_mm), scored)
        malignancy = malignancies.get(index)
        table = candidate_table(scored, index + 1, malignancy)
        if len(table):
            # Keyed by image and slice: a pick is a row of this slice's table, not of the next slice's.
            picked = st.dataframe(table, hide_index=True, on_select=partial(chose_zoom, "candidate"),
                                  selection_mode="single-row", key=f"ct_candidates:{image_key}:{index}")
            st.caption(detector_performance_note(cache.model_card("ct-detector")) + " " + DIAMETER_NOTE)
            st.caption(malignancy_caption(malignancy_model.card if malignancy_model is not None else None,
                                          bool(table["malignancy likelihood"].isna().any())))
            if malignancy_model is not None:
                show_provenance(malignancy_series_provenance(image.series_uid, malignancy_model.card))
            row = picked_row(picked, len(table))
        else:
            st.caption(no_candidate_note(cache.model_card("ct-detector"), lung_found=bool(scored.lung.any())))
            row = None
        with st.expander("Zoom on any point: click it on the slice, or type it"):
            point = st.columns(3)
            point_row = point[0].number_input("Row (pixel)", 0, image.hu.shape[1] - 1, key="ct_point_row",
                                              on_change=chose_zoom, args=("point",))
            point_col = point[1].number_input("Column (pixel)", 0, image.hu.shape[2] - 1, key="ct_point_col",
                                              on_change=chose_zoom, args=("point",))
            use_point = point[2].toggle("Zoom here", key="ct_zoom_here", on_change=chose_zoom, args=("point",))
        source = zoom_source(row, use_point, st.session_state.get("ct_zoom_chosen"))
        if source is not None:
            if source == "candidate":
                chosen = table.iloc[row]
                r, c, label = float(chosen["row"]), float(chosen["col"]), f"candidate #{int(chosen['rank'])}"
            else:
                r, c, label = float(point_row), float(point_col), point_label(table, point_row, point_col)
            patch = patch_at(image.hu[index], (row_mm, col_mm), r, c)
            probability = float(detector.probabilities(patch[None])[0])
            cam = grad_cam(detector.keras_model, patch_channels(patch[None]), CAM_LAYER, 0)[0]
            cam_opacity = st.slider("Grad-CAM opacity", 0.0, 1.0, 0.4, 0.05)
            st.plotly_chart(zoom_figure(patch, cam, window, opacity=cam_opacity,
                                        title=f"{label}: nodule probability {probability:.2f} (44.8 mm field)"),
                            width="content")
            st.caption("Grad-CAM: the regions that raised the detector's score. It shows what the model looked at, "
                       "not proof of a nodule.")
        else:
            st.caption("Pick a candidate in the table, or click any point of the slice, to see the detector's "
                       "Grad-CAM there.")

        with st.expander("Model cards: what the detector and the malignancy model were trained and tested on"):
            card = cache.model_card("ct-detector")
            cards = [card] + ([malignancy_model.card] if malignancy_model is not None else [])
            st.dataframe([card_summary(c) for c in cards], hide_index=True)
            st.caption(card.get("metrics_note", ""))
            st.json({"detector": card.get("test_data", {}),
                     "malignancy": malignancy_model.card.get("metrics", {}) if malignancy_model else {}},
                    expanded=False)

    with st.expander("Full DICOM header (may contain patient-identifying information)"):
        if reveal_toggle("Reveal all header tags", "reveal_dicom", image_key):
            st.dataframe(pd.DataFrame(image.all_tags()), hide_index=True)
        else:
            st.caption("Hidden by default. Only technical tags are shown above.")
