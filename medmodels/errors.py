"""The project's typed errors, and the one place where reader warnings are silenced.

Every rejection of user input raises :class:`InputError`. It subclasses
``ValueError`` so callers that only know the standard library still catch it,
and its message is written for the person who uploaded the file: what is
wrong, and what to upload instead.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator


class InputError(ValueError):
    """User input that the dashboard cannot use, with an actionable message."""


#: Serialises every block that silences warnings (see :func:`reader_warnings_silenced`).
_WARNING_FILTERS_LOCK = threading.RLock()


@contextlib.contextmanager
def reader_warnings_silenced() -> Iterator[None]:
    """Silence what pydicom/wfdb warn about hostile files while they read one.

    Their problems surface as :class:`InputError` instead. ``warnings.catch_warnings``
    saves and restores the process-wide filter list, so two threads inside it at
    once restore each other's state and can leave ``ignore`` installed for the
    whole server (Streamlit runs each session in its own thread). Every such block
    of this package takes this one lock, so they never interleave. Code outside the
    package that enters ``catch_warnings`` in another thread at the same moment is
    not covered by the lock; no other module of this project does so.
    """
    with _WARNING_FILTERS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
