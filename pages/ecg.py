"""ECG page: pick or upload a WFDB record, view it on ECG paper, classify every beat."""

import numpy as np
import streamlit as st

from medmodels import InputError, cache
from medmodels.ecg.pipeline import NO_SECOND_LEAD, analyse_ecg, second_lead_for
from medmodels.ecg.reading import second_lead_choices
from medmodels.ecg.saliency import grad_cam
from medmodels.ecg_analysis_view import (
    AAMI, CLASS_NAMES, add_beat_classes, beat_saliency_figure, beat_table, beat_views, confusion_figure,
    hr_trend_figure,
)
from medmodels.ecg_paper import class_band_y, overview_figure, strip_figure, twelve_lead_figure, window_samples
from medmodels.ecg_review import (
    UNDEFINED_FIGURE_NOTE, agreement_note, agreement_with_reference, burden_table, cut_beats_note, events_table,
    held_out_caption, held_out_class_figures, matrix_labels, mostly_missed_note, no_beats_note, no_regular_beats_note,
    picked_beat_caption, rhythm_definitions_note, rr_context_note, untested_lead_note, untested_second_lead_note,
)
from medmodels.ecg_view import has_twelve_leads, record_facts
from medmodels.model_cards import card_summary
from medmodels.provenance import ecg_record_provenance
from medmodels.sources import expand_sources
from medmodels.text import ECG_UPLOAD_HELP, INTENDED_USE
from medmodels.wfdb_io import group_records, load_ecg_files
from pages import picked_row, reveal_toggle, run_through_router, show_note, show_provenance

run_through_router()

st.title("ECG review")
st.caption(INTENDED_USE)


def choose_record():
    """The record the user picked or uploaded, and a key identifying it; (None, None) if none yet."""
    source = st.radio("Source", ["Example", "Upload", "PhysioNet (online)"], horizontal=True)
    if source == "Upload":
        files = st.file_uploader("WFDB files or zip", accept_multiple_files=True, help=ECG_UPLOAD_HELP)
        if not files:
            st.info(ECG_UPLOAD_HELP)
            return None, None
        records = cache.memoised_upload("ecg", files, lambda fs: group_records(expand_sources(list(fs))))
        name = st.selectbox("Record", list(records)) if len(records) > 1 else next(iter(records))
        key = ("upload", cache.upload_key(files), name)
        return cache.memoised("ecg-record", key, lambda: load_ecg_files(records[name])), key
    if source == "PhysioNet (online)":
        with st.form("physionet"):
            database = st.text_input("Database", "mitdb", help="PhysioNet database slug, e.g. mitdb")
            name = st.text_input("Record", "100")
            fetched = st.form_submit_button("Fetch")
        key = ("physionet", database.strip(), name.strip())
        if fetched or st.session_state.get("physionet_key") == key:
            st.session_state["physionet_key"] = key
            return cache.physionet_ecg(*key[1:]), key
        return None, None
    labels = cache.example_labels("ecg")
    if not labels:
        st.info("No example records: the data folder is absent. " + ECG_UPLOAD_HELP)
        return None, None
    label = st.selectbox("Example", labels)
    return cache.example_ecg(label), ("example", label)


def jump_to_selected_beat(analysis, analysed, fs: float, length_s: float) -> None:
    """When a beat of this analysis (``analysed``: record and lead) was picked in the table, centre the strip on it
    (before the slider is drawn)."""
    picked = st.session_state.get("beat_pick")
    if picked is not None and picked[0] == analysed and picked != st.session_state.get("beat_pick_done"):
        st.session_state["beat_pick_done"] = picked
        st.session_state["ecg_start"] = float(max(analysis.beat_samples[picked[1]] / fs - length_s / 2, 0.0))


try:
    record, record_key = choose_record()
except InputError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.caption(ECG_UPLOAD_HELP)
    record, record_key = None, None

if record is not None:
    st.dataframe(record_facts(record), hide_index=True)
    twelve = has_twelve_leads(record.lead_names)
    controls = st.columns(5)
    layout = controls[0].radio("Layout", ["Single lead", "12-lead"] if twelve else ["Single lead"], horizontal=True)
    lead = controls[1].selectbox("Lead analysed", range(record.n_leads), index=record.default_lead(),
                                 format_func=lambda i: record.lead_names[i])
    second_options = [None, *second_lead_choices(record.lead_names, lead)]
    picked_second = controls[2].selectbox(
        "Second lead", second_options, index=min(1, len(second_options) - 1),
        format_func=lambda i: "none (single-lead model)" if i is None else record.lead_names[i],
        help="The two-lead classifier also reads each beat's shape in a precordial lead (V1 in most of its "
             "training records); without one the single-lead classifier runs. Their held-out figures differ: "
             "see the model card.")
    length_s = 10.0 if layout == "12-lead" else float(
        controls[3].select_slider("Window (s)", [2.5, 5, 10, 20, 30, 60], value=10))
    length_s = min(length_s, record.duration_s)

    analysis = None
    # Memoised: checking the lead (percentiles over the whole record) would otherwise rerun on every widget change.
    second, second_note = cache.memoised(
        "ecg-second-lead", (record_key, lead, picked_second),
        lambda: second_lead_for(record.signal, record.lead_names, lead,
                                NO_SECOND_LEAD if picked_second is None else record.lead_names[picked_second]))
    if second_note:
        show_note(second_note, False, ":material/info:")
    try:
        model = cache.ecg_model(1 if second is None else 2)
        with st.spinner("Detecting and classifying beats…"):
            analysis = cache.memoised(
                "ecg-analysis", (record_key, lead, second),
                lambda: analyse_ecg(record.signal[:, lead], record.fs, model,
                                    second_lead_mv=None if second is None else record.signal[:, second]))
    except FileNotFoundError:
        st.info("No ECG beat classifier is installed; showing the record only.")
    except InputError as exc:
        st.warning(f"Beat analysis is not available for this lead: {exc}")
    if analysis is not None and not analysis.labels:
        st.warning(no_beats_note(record.lead_names[lead], record.signal[:, lead]))
        analysis = None

    if analysis is not None:
        jump_to_selected_beat(analysis, (record_key, lead), record.fs, length_s)
        card = cache.model_card("ecg" if analysis.leads == 1 else "ecg-two-lead")
        show_provenance(ecg_record_provenance(record.name, record.fs, record.n_samples, card))
        for note in (untested_lead_note(record.lead_names[lead]),
                     untested_second_lead_note(None if second is None else record.lead_names[second])):
            if note:
                show_note(note, False, ":material/info:")
    last_start = max(record.duration_s - length_s, 0.0)
    st.session_state["ecg_start"] = min(st.session_state.get("ecg_start", 0.0), last_start)
    start_s = controls[4].slider("Start (s)", 0.0, last_start, step=1.0, key="ecg_start") if last_start > 0 else 0.0

    if layout == "12-lead":
        print_figure = twelve_lead_figure(record.signal, record.fs, record.lead_names, start_s,
                                          class_band=analysis is not None)
        if analysis is not None:
            add_beat_classes(print_figure, analysis.beat_samples, analysis.labels, analysis.probabilities, record.fs,
                             window_samples(record.n_samples, record.fs, start_s, length_s),
                             class_band_y(print_figure))
        st.plotly_chart(print_figure, width="stretch")
        if analysis is not None:
            st.caption("Coloured letters under the rhythm strip: model class of each beat detected in lead "
                       f"{record.lead_names[lead]}, at its time (hover for probabilities).")
    else:
        ann = record.annotations
        st.plotly_chart(overview_figure(record.signal[:, lead], record.fs, start_s, length_s), width="stretch",
                        config={"displayModeBar": False})
        # The reviewer sees what the two-lead networks saw: the second lead at the same instants, on one paper.
        two_leads_read = analysis is not None and analysis.leads == 2
        strip = strip_figure(record.signal[:, lead], record.fs, start_s, length_s, lead_name=record.lead_names[lead],
                             beat_samples=ann.sample if ann else None, beat_labels=ann.symbol if ann else None,
                             class_band=analysis is not None,
                             second_lead=(record.lead_names[second], record.signal[:, second]) if two_leads_read
                             else None)
        if analysis is not None:
            window = window_samples(record.n_samples, record.fs, start_s, length_s)
            add_beat_classes(strip, analysis.beat_samples, analysis.labels, analysis.probabilities, record.fs,
                             window, class_band_y(strip))
        st.plotly_chart(strip, width="stretch")
        notes = (["Coloured letters below the trace: model class of each detected beat (hover for probabilities)."]
                 if analysis else [])
        if ann:
            notes.append("Blue letters at the top: reference annotations from the .atr file.")
        if two_leads_read:
            notes.append(f"Below them, on the same paper: lead {record.lead_names[second]}, which the two-lead "
                         "networks also read at each beat (beats are detected and timed on the analysed lead).")
        st.caption(" ".join(notes))
    st.caption("Paper: 25 mm/s, 10 mm/mV; small squares 1 mm (0.04 s, 0.1 mV), large squares 5 mm.")

    if analysis is not None:
        summary = analysis.summary
        hr = summary["heart_rate"]
        st.subheader("Rhythm summary")
        read = (f"the two-lead classifier read leads {record.lead_names[lead]} and {record.lead_names[second]}"
                if analysis.leads == 2 else "the single-lead classifier read this lead only")
        st.caption(f"Lead {record.lead_names[lead]} · {summary['n_beats']} beats detected; {read}. " + INTENDED_USE)
        cols = st.columns(4)
        for col, (label, value) in zip(cols, [("Mean HR", hr["mean_bpm"]), ("Min HR (8-beat mean)", hr["min_bpm"]),
                                              ("Max HR (8-beat mean)", hr["max_bpm"]), ("Pauses > 2 s", len(summary["pauses"]))]):
            col.metric(label, "–" if value is None else (f"{value:.0f} bpm" if "HR" in label else value))
        st.caption(rhythm_definitions_note(summary))
        left, right = st.columns([1, 1])
        if len(hr["trend"]) >= 2:
            left.plotly_chart(hr_trend_figure(hr["trend"]), width="stretch")
            left.caption("Mean heart rate per minute; a gap where a minute holds fewer than two RR intervals.")
        else:  # one point is not a trend
            left.caption("Too short for a per-minute heart-rate trend: none is drawn.")
        right.dataframe(burden_table(summary, held_out_class_figures(card)), hide_index=True)
        right.caption(held_out_caption(card))
        mostly_missed = mostly_missed_note(card)
        if mostly_missed:
            show_note(mostly_missed, True, ":material/visibility_off:")
        events = events_table(summary)
        st.markdown(f"**Events**: {summary['v_couplets']} V couplets, {summary['v_runs']} V runs, "
                    f"{summary['ventricular_bigeminy_episodes']} ventricular and "
                    f"{summary['supraventricular_bigeminy_episodes']} supraventricular bigeminy episodes, "
                    f"{len(summary['pauses'])} pauses.")
        if summary.get("irregular_rhythm_percent", 0) >= 5:
            st.warning(f"Irregular RR pattern (intervals that do not repeat at lags of 1–3 beats) around "
                       f"{summary['irregular_rhythm_percent']:.0f} % of beats: supraventricular ectopic (S) labels are "
                       "not assigned there. Atrial fibrillation or frequent, varying ectopy can cause this: "
                       "confirm the rhythm on the strip.")
        no_regular_beats = no_regular_beats_note(summary, card)
        if no_regular_beats:
            st.warning(no_regular_beats)
        if len(events):
            st.dataframe(events, hide_index=True, height=min(38 * (len(events) + 1), 300))

        st.subheader("Beats")
        table = beat_table(analysis.beat_samples, analysis.labels, analysis.probabilities, record.fs,
                           analysis.without_regular_beats, analysis.networks_agreeing, analysis.n_networks)
        ensemble_note = agreement_note(analysis.networks_agreeing, analysis.n_networks, card)
        if ensemble_note:
            st.caption(ensemble_note)
        cut_note = cut_beats_note(analysis.beat_samples, analysis.cut_at_record_edge, record.fs)
        if cut_note:
            st.caption(cut_note)
        filters = st.columns([2, 1])
        classes = filters[0].multiselect("Classes", AAMI, default=[c for c in AAMI if c != "N"] or list(AAMI),
                                         format_func=lambda c: f"{c}: {CLASS_NAMES[c]}")
        min_prob = filters[1].slider("Minimum probability", 0.0, 1.0, 0.0, 0.05)
        shown = table[table["class"].isin(classes) & (table["probability"] >= min_prob)]
        # Keyed by what the table shows: a pick is a row of this record, lead and filter, not of the next one.
        picked = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row", height=260,
                              key=f"beat_table:{record_key}:{lead}:{','.join(classes)}:{min_prob}")
        row = picked_row(picked, len(shown))
        if row is not None:
            index = int(shown.iloc[row]["beat"]) - 1
            if st.session_state.get("beat_pick") != ((record_key, lead), index):
                st.session_state["beat_pick"] = ((record_key, lead), index)
                st.rerun()
            cut = bool(analysis.cut_at_record_edge[index])
            opacity = 0.0 if cut else st.slider("Saliency opacity", 0.0, 1.0, 0.5, 0.05)
            inputs = {name: values[[index]] for name, values in analysis.inputs.items()}
            # A cut beat's Q is the rule's, not a class decision of the networks: nothing for Grad-CAM to explain.
            saliency = None if cut else grad_cam(model.networks, inputs,
                                                 np.array([AAMI.index(analysis.labels[index])]))[0]
            views = beat_views(analysis.windows_mv, analysis.second_windows_mv, index,
                               analysis.beat_samples[index] / record.fs, analysis.labels[index],
                               analysis.probabilities[index], record.lead_names[lead],
                               None if second is None else record.lead_names[second])
            for column, (window_mv, title) in zip(st.columns(len(views)), views):
                column.plotly_chart(beat_saliency_figure(
                    window_mv, saliency, analysis.model_fs, before_s=analysis.window_before_s, title=title,
                    opacity=opacity), width="stretch" if len(views) > 1 else "content")
            st.caption(picked_beat_caption(cut, len(model.networks),
                                           record.lead_names[second] if analysis.leads == 2 else None)
                       + ("" if cut else rr_context_note(analysis.beat_samples, record.fs, index)))
        else:
            st.caption("Pick a beat in the table to jump the strip to it and see its saliency.")

        if record.annotations is not None:
            st.subheader("Agreement with the reference annotations")
            agreement = agreement_with_reference(record.annotations, analysis.beat_samples, analysis.labels, record.fs)
            left, right = st.columns([1, 1])
            labels = matrix_labels()
            left.plotly_chart(confusion_figure(agreement.matrix, labels, labels), width="stretch")
            right.dataframe(agreement.table(), hide_index=True)
            right.caption(f"{agreement.n_reference} reference beats; beats matched within 150 ms. "
                          "'unmatched': missed reference beats (column) or extra detections (row). "
                          + UNDEFINED_FIGURE_NOTE)

        with st.expander("Model card: what this classifier was trained and tested on"):
            st.dataframe([card_summary(card)], hide_index=True)
            st.json(card.get("metrics", {}), expanded=False)
            st.caption(card.get("intended_use", INTENDED_USE))

    if record.comments:
        with st.expander("Header comments (may contain age, sex and diagnoses)"):
            if reveal_toggle("Reveal header comments", "reveal_ecg", record_key):
                st.code("\n".join(record.comments))
            else:
                st.caption("Hidden by default.")
