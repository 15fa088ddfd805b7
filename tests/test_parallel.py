"""The shared pool that runs an ensemble's networks side by side (medmodels.parallel)."""

import threading

import pytest

from medmodels import parallel
from medmodels.parallel import cpu_cores, map_networks

needs_two_cores = pytest.mark.skipif(cpu_cores() < 2, reason="runs calls side by side only on 2 or more cores")


def test_results_keep_the_items_order():
    assert map_networks(lambda x: x * x, range(7)) == [0, 1, 4, 9, 16, 25, 36]
    assert map_networks(str, [5]) == ["5"] and map_networks(str, []) == []


@needs_two_cores
def test_calls_run_side_by_side():
    # Two calls that each wait for the other: run one after the other, the barrier times out.
    both_inside = threading.Barrier(2, timeout=10)
    threads = map_networks(lambda _: (both_inside.wait(), threading.get_ident())[1], range(2))
    assert len(set(threads)) == 2 and threading.get_ident() not in threads


@needs_two_cores
def test_a_call_inside_the_pool_runs_inline_instead_of_waiting_on_the_pool():
    # With every pool thread busy in an outer call, nested calls queued on the pool would never start.
    result = map_networks(lambda i: map_networks(lambda j: 10 * i + j, range(3)), range(cpu_cores() + 1))
    assert result == [[10 * i + j for j in range(3)] for i in range(cpu_cores() + 1)]


def test_the_first_exception_reaches_the_caller():
    def fail_on_two(x):
        if x == 2:
            raise ValueError("item 2")
        return x

    with pytest.raises(ValueError, match="item 2"):
        map_networks(fail_on_two, range(4))
    assert map_networks(fail_on_two, [0, 1]) == [0, 1]  # the pool still serves


def test_one_core_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(parallel, "cpu_cores", lambda: 1)
    assert map_networks(lambda _: threading.get_ident(), range(3)) == [threading.get_ident()] * 3
