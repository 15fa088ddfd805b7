"""Router: builds the navigation over the pages in pages/. All logic lives in medmodels."""

import streamlit as st

st.set_page_config(page_title="Clinical DL review dashboard", page_icon=":material/stethoscope:", layout="wide")
st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/ct.py", title="CT", icon=":material/pulmonology:", url_path="ct"),
        st.Page("pages/ecg.py", title="ECG", icon=":material/ecg_heart:", url_path="ecg"),
        st.Page("pages/synthetic.py", title="Synthetic samples", icon=":material/science:", url_path="synthetic"),
    ]
).run()
