"""Running a loader or an analysis from several threads at once, as Streamlit serves sessions, for tests."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor


def map_in_threads_switching_often(function: Callable[[object], object], items: Sequence) -> list:
    """``[function(item) for item in items]``, computed over 4 threads that switch every 10 µs (inside the calls),
    as Streamlit serves sessions sharing cached objects. Returns the results in ``items``' order."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(function, items))
    finally:
        sys.setswitchinterval(switch)


def load_in_threads_keeping_warning_filters(load: Callable[[], object], times: int) -> list:
    """``load()`` ``times`` times over 4 threads that switch often; asserts the process-wide warning filters are
    exactly as before (``warnings.catch_warnings`` saves and restores them, so unsynchronised threads restore each
    other's "ignore"). Returns what the loads returned."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        before = list(warnings.filters)
        loaded = map_in_threads_switching_often(lambda _: load(), range(times))
        assert list(warnings.filters) == before
    return loaded
