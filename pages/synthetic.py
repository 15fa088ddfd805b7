"""Synthetic samples: class-conditional GAN output for CT patches and ECG beats, with its measured quality."""

import pandas as pd
import streamlit as st

from medmodels import InputError, cache
from medmodels.gan import STATEMENT, SYNTHETIC
from medmodels.gan.export import batch_stem, ct_npz, ecg_csv, patch_png
from medmodels.gan.generate import MAX_SAMPLES, MAX_SEED, check_count, neighbour_seed
from medmodels.gan.augment import format_summary
from medmodels.gan.quality import originality_summary, quality_rows, tstr_text
from medmodels.gan.real import real_samples_description
from medmodels.gan.view import beats_strip_figures, patch_grid_figure, rr_table_rows
from medmodels.windowing import PRESETS, Window
from pages import run_through_router, show_note

run_through_router()

st.title("Synthetic samples")
st.warning(STATEMENT, icon=":material/science:")

modality = st.radio("Modality", ["CT nodule patches", "ECG beats"], horizontal=True)
kind = "ct" if modality.startswith("CT") else "ecg"
try:
    generator = cache.gan_generator(kind)
except FileNotFoundError as exc:
    st.info(f"No generator installed: {exc}")
    st.stop()

left, middle, right = st.columns(3)
cls = left.selectbox("Class", ["Even mix", *generator.classes])
n = int(middle.number_input("Number of samples", min_value=1, max_value=MAX_SAMPLES, value=16, step=1))
seed = int(right.number_input("Seed", min_value=0, max_value=MAX_SEED, value=0, step=1))
chosen = None if cls == "Even mix" else cls

try:
    samples = generator.sample(check_count(n), seed, chosen)
except InputError as exc:
    st.error(str(exc))
    st.stop()
names = samples.class_names()
shown = min(n, 64 if kind == "ct" else 24)  # the rest are in the downloads


def ct_window() -> Window:
    preset = st.selectbox("Window", [*PRESETS, "Custom"], index=0)
    if preset != "Custom":
        return PRESETS[preset]
    width = st.number_input("Width (HU)", min_value=1.0, max_value=4000.0, value=1500.0)
    level = st.number_input("Level (HU)", min_value=-1100.0, max_value=1000.0, value=-600.0)
    return Window(width, level)


st.subheader(f"{SYNTHETIC} samples" + (f" (first {shown} of {n})" if n > shown else ""))
originality, level = originality_summary(generator.card)
if originality:
    show_note(originality, level == "warning", ":material/content_copy:")
if kind == "ct":
    window = ct_window()
    st.plotly_chart(patch_grid_figure(samples.values["hu"][:shown], names[:shown], window), key="synthetic_grid")
else:
    r_index = int(generator.card["input"]["before_samples"])
    for i, fig in enumerate(beats_strip_figures(samples.values["waveform"][:shown, :, 0], samples.fs, r_index,
                                                names[:shown])):
        st.plotly_chart(fig, key=f"synthetic_strip_{i}")
    st.dataframe(pd.DataFrame(rr_table_rows(samples.values["rr"][:shown], samples.rr_names, names)), hide_index=True)

st.subheader("Held-out examples of the same class (not generated)")
real_class = chosen or generator.classes[-1]
real = cache.gan_real_samples(kind, real_class, 8)
real_label, real_caption = real_samples_description(kind, real_class)
if real is None:
    st.info("The data folder is not present, so no held-out examples can be shown (set MEDMODELS_DATA).")
elif kind == "ct":
    st.plotly_chart(patch_grid_figure(real, [f"{real_label} · {real_class}"] * len(real), window, marker=None),
                    key="real_grid")
else:
    for i, fig in enumerate(beats_strip_figures(real["waveform"][:, :, 0], samples.fs, r_index,
                                                [real_class] * len(real["rr"]), marker=None)):
        st.plotly_chart(fig, key=f"real_strip_{i}")
if real is not None:
    st.caption(real_caption)

st.subheader("Latent interpolation")
a, b = st.columns(2)
seed_a = int(a.number_input("From seed", min_value=0, max_value=MAX_SEED, value=seed, step=1))
seed_b = int(b.number_input("To seed", min_value=0, max_value=MAX_SEED, value=neighbour_seed(seed), step=1))
strip = generator.interpolate(seed_a, seed_b, real_class, steps=8)
if kind == "ct":
    st.plotly_chart(patch_grid_figure(strip.values["hu"], [f"t={t:.2f}" for t in [i / 7 for i in range(8)]], window,
                                      columns=8), key="interpolation")
else:
    for i, fig in enumerate(beats_strip_figures(strip.values["waveform"][:, :, 0], strip.fs, r_index,
                                                strip.class_names())):
        st.plotly_chart(fig, key=f"interpolation_{i}")
st.caption(f"Eight {SYNTHETIC} samples of class {real_class} along the path between the latents of seeds "
           f"{seed_a} and {seed_b}: smooth change means the generator learned a continuous space, not a lookup table.")

st.subheader("Downloads")
stem = batch_stem(samples)
if kind == "ct":
    st.download_button("NPZ (all patches, HU)", ct_npz(samples), f"{stem}.npz", "application/octet-stream")
    st.download_button("PNG (first patch, lung window)", patch_png(samples.values["hu"][0], names[0]), f"{stem}_0000.png",
                       "image/png")
else:
    st.download_button("CSV (all beats, mV, with RR context)", ecg_csv(samples), f"{stem}.csv", "text/csv")
    st.caption("WFDB records (one per beat, with the class as an annotation): "
               f"`python -m medmodels gan ecg --n {n} --seed {seed}" + (f" --cls {chosen}" if chosen else "") + " --out DIR`.")

st.subheader("Measured quality (from the model card)")
card = generator.card
rows = quality_rows(card)
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True)
if tstr_text(card):
    st.write(tstr_text(card))
augmentation = card.get("quality", {}).get("augmentation")
if augmentation:
    st.code(format_summary(kind, augmentation["summary"]), language=None)
st.caption(card.get("quality", {}).get("notes", ""))
st.caption(f"Generator {card.get('name')} {card.get('version')}, weights sha256 {generator.sha256[:12]}…; "
           f"reproduce with `{card.get('command')}`.")
