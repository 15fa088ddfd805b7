"""Running a loader from several threads at once, as Streamlit serves sessions, for tests."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def load_in_threads_keeping_warning_filters(load: Callable[[], object], times: int) -> list:
    """``load()`` ``times`` times over 4 threads that switch often; asserts the process-wide warning filters are
    exactly as before (``warnings.catch_warnings`` saves and restores them, so unsynchronised threads restore each
    other's "ignore"). Returns what the loads returned."""
    switch = sys.getswitchinterval()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        before = list(warnings.filters)
        sys.setswitchinterval(1e-5)  # switch threads often, inside the blocks
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                loaded = list(pool.map(lambda _: load(), range(times)))
        finally:
            sys.setswitchinterval(switch)
        assert list(warnings.filters) == before
    return loaded
