"""Wording shared by pages and the command line."""

INTENDED_USE = (
    "Decision support for review and teaching. This is **not a diagnostic device**: "
    "every result must be checked by a qualified clinician against the full clinical picture."
)

PRIVACY = (
    "Uploads stay in memory and are discarded when you close the tab. Patient-identifying "
    "header fields are hidden unless you deliberately reveal them, and are never logged."
)

CT_UPLOAD_HELP = (
    "Upload one DICOM CT slice, several slices of one series, or a zip of a series "
    "(files without a .dcm extension are fine)."
)

ECG_UPLOAD_HELP = (
    "Upload a WFDB record: its .hea header and .dat signal file (plus .atr reference "
    "annotations if you have them), several records at once, or a zip of them."
)


def escape_markdown(text: str) -> str:
    """``text`` shown literally by Streamlit's markdown (a card's "mitdb.TRAIN_x" or "*" stays as written)."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|~$" else ch for ch in text)
