"""Router: builds the navigation over the pages in pages/. All logic lives in medmodels."""

import streamlit as st

st.set_page_config(page_title="Clinical DL review dashboard", page_icon="🩺", layout="wide")
st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/ct.py", title="CT", icon="🫁", url_path="ct"),
        st.Page("pages/ecg.py", title="ECG", icon="💓", url_path="ecg"),
    ]
).run()
