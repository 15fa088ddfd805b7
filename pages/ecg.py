"""ECG page: upload or pick a WFDB record and view it on standard ECG paper."""

import streamlit as st

from medmodels import InputError, cache
from medmodels.ecg_paper import overview_figure, strip_figure, twelve_lead_figure
from medmodels.ecg_view import has_twelve_leads, record_facts
from medmodels.sources import expand_sources
from medmodels.text import ECG_UPLOAD_HELP, INTENDED_USE
from medmodels.wfdb_io import group_records, load_ecg_files

st.title("ECG viewer")
st.caption(INTENDED_USE)

source = st.radio("Source", ["Example", "Upload", "PhysioNet (online)"], horizontal=True)
record = None
try:
    if source == "Upload":
        files = st.file_uploader("WFDB files or zip", accept_multiple_files=True, help=ECG_UPLOAD_HELP)
        if files:
            records = cache.memoised_upload("ecg", files, lambda fs: group_records(expand_sources(list(fs))))
            name = st.selectbox("Record", list(records)) if len(records) > 1 else next(iter(records))
            record = cache.memoised_upload(f"ecg:{name}", files, lambda _: load_ecg_files(records[name]))
        else:
            st.info(ECG_UPLOAD_HELP)
    elif source == "PhysioNet (online)":
        with st.form("physionet"):
            database = st.text_input("Database", "mitdb", help="PhysioNet database slug, e.g. mitdb, ptb-xl/1.0.3/records500/00000")
            name = st.text_input("Record", "100")
            fetched = st.form_submit_button("Fetch")
        if fetched or st.session_state.get("physionet_key") == (database, name):
            st.session_state["physionet_key"] = (database.strip(), name.strip())
            record = cache.physionet_ecg(database.strip(), name.strip())
    else:
        labels = cache.example_labels("ecg")
        if labels:
            record = cache.example_ecg(st.selectbox("Example", labels))
        else:
            st.info("No example records: the data folder is absent. " + ECG_UPLOAD_HELP)
except InputError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.caption(ECG_UPLOAD_HELP)

if record is not None:
    st.dataframe(record_facts(record), hide_index=True)
    twelve = has_twelve_leads(record.lead_names)
    controls = st.columns(4)
    layout = controls[0].radio("Layout", ["12-lead", "Single lead"] if twelve else ["Single lead"], horizontal=True)
    lead = controls[1].selectbox("Lead", range(record.n_leads), index=record.default_lead(),
                                 format_func=lambda i: record.lead_names[i], disabled=layout == "12-lead")
    length_s = 10.0 if layout == "12-lead" else float(
        controls[2].select_slider("Window (s)", [2.5, 5, 10, 20, 30, 60], value=10))
    length_s = min(length_s, record.duration_s)
    last_start = max(record.duration_s - length_s, 0.0)
    start_s = controls[3].slider("Start (s)", 0.0, last_start, 0.0, step=1.0) if last_start > 0 else 0.0

    if layout == "12-lead":
        st.plotly_chart(twelve_lead_figure(record.signal, record.fs, record.lead_names, start_s), width="stretch")
    else:
        ann = record.annotations
        st.plotly_chart(overview_figure(record.signal[:, lead], record.fs, start_s, length_s), width="stretch",
                        config={"displayModeBar": False})
        st.plotly_chart(
            strip_figure(record.signal[:, lead], record.fs, start_s, length_s, lead_name=record.lead_names[lead],
                         beat_samples=ann.sample if ann else None, beat_labels=ann.symbol if ann else None),
            width="stretch",
        )
        if ann:
            st.caption("Blue letters: reference beat annotations from the uploaded .atr file.")
    st.caption("Paper: 25 mm/s, 10 mm/mV; small squares 1 mm (0.04 s, 0.1 mV), large squares 5 mm.")

    if record.comments:
        with st.expander("Header comments (may contain age, sex and diagnoses)"):
            if st.toggle("Reveal header comments", value=False, key="reveal_ecg"):
                st.code("\n".join(record.comments))
            else:
                st.caption("Hidden by default.")
