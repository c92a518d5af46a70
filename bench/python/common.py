"""Helpers shared by the Python programs of the bench (bench/python/*.py).

mulberry32 is the same generator as bench/common.ts, so the timers workload sleeps exactly the
same delays in every peer. Results are printed as one line ``@@RESULT {json}``, as the Node
worker does.
"""
import json
import sys

MASK = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & MASK


def mulberry32(seed):
    """A seeded generator of floats in [0, 1), bit for bit the one in bench/common.ts."""
    state = seed & MASK

    def random():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK
        t = state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    return random


def timer_delays_ms(n, max_delay_ms, seed):
    random = mulberry32(seed)
    return [random() * max_delay_ms for _ in range(n)]


def completion_yields(n, max_yields, seed):
    """How many times each task of the ascompleted workload yields, as in bench/common.ts."""
    random = mulberry32(seed)
    return [int(random() * max_yields) for _ in range(n)]


def soak_metrics(heap, cycles, busy_ms):
    """The soak workload's report, as soakMetrics in bench/common.ts."""
    start, middle, end = heap
    return {
        "growth_bytes": end - start,
        "second_half_bytes": end - middle,
        "heap_start_mb": start / 1e6,
        "heap_middle_mb": middle / 1e6,
        "heap_end_mb": end / 1e6,
        "bytes_per_cycle": (end - middle) / (cycles / 2),
        "us_per_cycle": busy_ms * 1000.0 / cycles,
    }


def timer_metrics(start_ms, end_ms, delays, late):
    ordered = sorted(late)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return {
        "overhead_ms": end_ms - start_ms - max(delays),
        "worst_late_ms": max(late),
        "p99_late_ms": p99,
    }


def print_result(result):
    sys.stdout.write("@@RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def loop_factory(kind):
    """The event loop factory for ``asyncio.Runner``: CPython's own loop, or uvloop's."""
    if kind == "asyncio":
        return None
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    raise SystemExit(f"unknown loop {kind!r}: asyncio or uvloop")
