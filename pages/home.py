"""Home: intended use, installed models, compute device."""

import streamlit as st

from medmodels import cache
from medmodels.config import data_dir
from medmodels.model_cards import card_summary, installed_cards
from medmodels.text import INTENDED_USE, PRIVACY, escape_markdown
from pages import run_through_router

run_through_router()

st.title("Clinical deep-learning review dashboard")
st.warning(INTENDED_USE, icon=":material/warning:")
st.markdown(
    "Review **chest CT** (DICOM) and **ECG** (WFDB) uploads with the models below. "
    "Each result shows what its model was trained and tested on."
)

st.subheader("Models")
cards = installed_cards()
for row in map(card_summary, cards):
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(row['model'])}** · version {escape_markdown(row['version'])}  \n"
                    f"{escape_markdown(row['task'])}")
        st.markdown("  \n".join(f"**{label.capitalize()}:** {escape_markdown(row[label]) or 'not recorded'}"
                                 for label in ("trained on", "tested on", "held-out result")))
if not cards:
    st.info("No trained models are installed yet: the CT and ECG pages show the viewers only.")

st.subheader("Compute")
st.write(f"Models run on: **{cache.device_name()}**")

st.subheader("Data and privacy")
st.caption(PRIVACY)
st.caption(f"Example data folder: `{data_dir()}` ({'found' if data_dir().is_dir() else 'not found: only bundled examples'})")
