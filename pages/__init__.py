"""The page scripts: thin, widgets then ``medmodels`` calls; ``app.py``'s ``st.navigation`` runs them."""

from pathlib import Path

ROUTER = Path(__file__).resolve().parent.parent / "app.py"


def run_through_router() -> None:
    """Make sure this page runs under ``app.py``'s navigation; call first in every page script.

    Streamlit 1.67 runs a request in its older ``pages/``-folder mode until some
    session of the process has run ``st.navigation``: on a freshly started
    server a first request straight to ``/ecg`` would run this script without
    ``app.py`` (the sidebar lists the folder's files, the layout is narrow).
    Then this leaves that mode, as ``st.navigation`` itself does, runs the
    router, which runs this page again within the same script run (so widget
    events are kept), and stops the outer run. Browser and AppTest tests cover it.
    """
    import runpy

    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(ROUTER), run_name="__main__")
        st.stop()


def show_note(text: str, warn: bool, icon: str) -> None:
    """A note above results: ``st.warning`` when it limits what they show, else ``st.info``."""
    import streamlit as st

    (st.warning if warn else st.info)(text, icon=icon)


def show_provenance(provenance) -> None:
    """A :class:`medmodels.provenance.Provenance` note: a warning when the model was trained on this input."""
    if provenance is not None:
        show_note(provenance.note, provenance.seen_in_training, ":material/model_training:")


def reveal_toggle(label: str, key: str, shown_for) -> bool:
    """A switch revealing patient-identifying data that turns itself off when ``shown_for`` (the image or record)
    changes: revealing one patient's header must not reveal the next upload's without a new request."""
    import streamlit as st

    if st.session_state.get(f"{key}_of") != shown_for:
        st.session_state[f"{key}_of"] = shown_for
        st.session_state[key] = False
    return st.toggle(label, key=key)


def picked_row(event, n_rows: int) -> int | None:
    """The row picked in a single-row-selection ``st.dataframe`` event, or None.

    A selection can outlive its table (a filter shortened it, or another slice
    or record replaced it); a row it names that no longer exists is no pick.
    Pages also key such tables by what they show, so a stale pick is cleared.
    """
    rows = event.selection.rows if event else []
    return rows[0] if rows and 0 <= rows[0] < n_rows else None
