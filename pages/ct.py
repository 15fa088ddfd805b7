"""CT page: upload or pick a DICOM slice/series and view it in HU."""

import pandas as pd
import streamlit as st

from medmodels import InputError, cache, load_ct
from medmodels.ct_view import ct_slice_figure
from medmodels.text import CT_UPLOAD_HELP, INTENDED_USE
from medmodels.windowing import PRESETS, Window

st.title("CT viewer")
st.caption(INTENDED_USE)

source = st.radio("Source", ["Example", "Upload"], horizontal=True)
image = None
try:
    if source == "Upload":
        files = st.file_uploader("DICOM files or zip", accept_multiple_files=True, help=CT_UPLOAD_HELP)
        if files:
            with st.spinner("Reading DICOM…"):
                image = cache.memoised_upload("ct", files, lambda fs: load_ct(list(fs), require_ct=False))
        else:
            st.info(CT_UPLOAD_HELP)
    else:
        label = st.selectbox("Example", cache.example_labels("ct"))
        image = cache.example_ct(label)
except InputError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.caption(CT_UPLOAD_HELP)

if image is not None:
    if not image.is_ct:
        st.warning(f"This is a {image.modality or 'non-CT'} image, shown for viewing only; CT analysis needs CT.")
    if image.skipped:
        with st.expander(f"{len(image.skipped)} file(s) of the upload were left out"):
            st.dataframe(pd.DataFrame(image.skipped, columns=["file", "reason"]), hide_index=True)

    left, right = st.columns([3, 1])
    with right:
        preset = st.selectbox("Window", [*PRESETS, "Custom"], index=0 if image.is_ct else len(PRESETS))
        if preset == "Custom":
            default = PRESETS["Lung"] if image.is_ct else Window(float(image.hu.max() - image.hu.min()) or 1.0, float((image.hu.max() + image.hu.min()) / 2))
            width = st.number_input("Width (HU)", min_value=1.0, max_value=10000.0, value=float(default.width))
            level = st.number_input("Level (HU)", min_value=-5000.0, max_value=70000.0, value=float(default.level))
            window = Window(width, level)
        else:
            window = PRESETS[preset]
        st.caption(f"W {window.width:g} / L {window.level:g}")
        index = 0
        if image.n_slices > 1:
            index = st.slider("Slice", 1, image.n_slices, (image.n_slices + 1) // 2) - 1
        z_mm, row_mm, col_mm = image.spacing
        st.markdown(
            f"**Slice** {index + 1} of {image.n_slices} · z = {image.z_positions[index]:.1f} mm  \n"
            f"**Pixel spacing** {row_mm:.3f} × {col_mm:.3f} mm  \n"
            f"**Slice spacing** {z_mm:.2f} mm"
        )
        st.markdown("**Technical metadata**")
        st.table(pd.DataFrame(image.metadata.items(), columns=["tag", "value"]).set_index("tag"))
    with left:
        fig = ct_slice_figure(image.hu[index], (row_mm, col_mm), window, invert=image.inverted,
                              title=f"{image.modality} · slice {index + 1}/{image.n_slices}")
        st.plotly_chart(fig, width="stretch", key="ct_slice")

    with st.expander("Full DICOM header (may contain patient-identifying information)"):
        if st.toggle("Reveal all header tags", value=False, key="reveal_dicom"):
            st.dataframe(pd.DataFrame(image.all_tags()), hide_index=True)
        else:
            st.caption("Hidden by default. Only technical tags are shown above.")
