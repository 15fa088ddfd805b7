"""The shared pool that runs networks of an ensemble, or slices of a series, side by side (medmodels.parallel)."""

import threading

import pytest

from medmodels import parallel
from medmodels.parallel import cpu_cores, imap_side_by_side, map_side_by_side

needs_two_cores = pytest.mark.skipif(cpu_cores() < 2, reason="runs calls side by side only on 2 or more cores")


def test_results_keep_the_items_order():
    assert map_side_by_side(lambda x: x * x, range(7)) == [0, 1, 4, 9, 16, 25, 36]
    assert map_side_by_side(str, [5]) == ["5"] and map_side_by_side(str, []) == []


@needs_two_cores
def test_calls_run_side_by_side():
    # Two calls that each wait for the other: run one after the other, the barrier times out.
    both_inside = threading.Barrier(2, timeout=10)
    threads = map_side_by_side(lambda _: (both_inside.wait(), threading.get_ident())[1], range(2))
    assert len(set(threads)) == 2 and threading.get_ident() not in threads


@needs_two_cores
def test_a_call_inside_the_pool_runs_inline_instead_of_waiting_on_the_pool():
    # With every pool thread busy in an outer call, nested calls queued on the pool would never start.
    result = map_side_by_side(lambda i: map_side_by_side(lambda j: 10 * i + j, range(3)), range(cpu_cores() + 1))
    assert result == [[10 * i + j for j in range(3)] for i in range(cpu_cores() + 1)]


def test_the_first_exception_reaches_the_caller():
    def fail_on_two(x):
        if x == 2:
            raise ValueError("item 2")
        return x

    with pytest.raises(ValueError, match="item 2"):
        map_side_by_side(fail_on_two, range(4))
    assert map_side_by_side(fail_on_two, [0, 1]) == [0, 1]  # the pool still serves


def test_one_core_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(parallel, "cpu_cores", lambda: 1)
    assert map_side_by_side(lambda _: threading.get_ident(), range(3)) == [threading.get_ident()] * 3


@needs_two_cores
def test_results_are_yielded_in_order_in_the_calling_thread_as_they_are_done():
    # Item 0 waits until item 1 has run: side by side, item 1 finishes first, yet 0 is yielded first.
    one_done = threading.Event()

    def work(i):
        if i == 0:
            assert one_done.wait(timeout=10)
        else:
            one_done.set()
        return i, threading.get_ident()

    caller = threading.get_ident()
    seen = [(i, ident, threading.get_ident()) for i, ident in imap_side_by_side(work, range(2))]
    assert [i for i, _, _ in seen] == [0, 1]
    assert all(consumer == caller != worker for _, worker, consumer in seen)
