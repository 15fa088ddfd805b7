"""Run independent pieces of work side by side, one thread per CPU core.

Why: much of the work here leaves the second core idle.  A small network's
inference or gradient (the ECG classifier's GRU networks: 32 units, a few
thousand beats) is made of ops too small for TensorFlow to split, and a CT
slice's lung mask and candidate search run mostly on one core.  The pieces are
independent (networks of an ensemble, slices of a series), and the backends,
SimpleITK and NumPy release the GIL while they compute, so threads use the idle
core.  Measured on 2 cores: the two-lead classifier's six networks on record
119 (1,988 beats, 445 non-N), logits 0.32 → 0.26 s and Grad-CAM gradients
0.21 → 0.13 s; preparing the 133 slices of LIDC-IDRI-0001 (lung mask,
resampling, candidates) 12.6 → 7.8 s (``bench/ecg.py`` and ``bench/ct.py`` time
the whole paths).  Results are the same as one by one, in the same order.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_IN_POOL = threading.local()


def cpu_cores() -> int:
    """CPU cores this process may run on (its affinity where the platform tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    """The process's shared pool (one thread per core), made on first use; every session shares it."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=cpu_cores(), thread_name_prefix="medmodels-side-by-side",
                                       initializer=_mark_pool_thread)
        return _POOL


def _mark_pool_thread() -> None:
    _IN_POOL.active = True


def imap_side_by_side(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fn(item)`` for each item, computed side by side in the shared pool, yielded in the items' order.

    Each result is yielded in the calling thread as soon as it and those before
    it are done, so a caller can report progress (Streamlit's widgets only work
    from the script's own thread).  Runs in the calling thread when there is one
    item, one core, or when called from inside the pool (so a nested call cannot
    wait on its own pool).  The first exception raised by a call is raised here.
    ``fn`` must be safe to call from several threads at once for different
    items (the compiled functions of different networks are; so are the lung
    mask and candidate search of different slices).
    """
    items = list(items)
    if len(items) < 2 or cpu_cores() < 2 or getattr(_IN_POOL, "active", False):
        return (fn(item) for item in items)
    return _pool().map(fn, items)


def map_side_by_side(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, computed side by side (:func:`imap_side_by_side`)."""
    return list(imap_side_by_side(fn, items))
