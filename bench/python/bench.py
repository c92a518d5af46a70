"""The bench's workloads for CPython's asyncio, on its own event loop or on uvloop's.

Usage: python3 bench.py LOOP WORKLOAD JSON
  LOOP      asyncio | uvloop
  WORKLOAD  spawn | memory | cancel | queue | lock | semaphore | timers | timeout | gather |
            taskgroup | ascompleted | soak
  JSON      {"params": {...}, "warmup": {...} | null, "warmupSeconds": s, "measureSeconds": s,
            "rates": [...]}, as the Node worker takes

Each workload is the same program as in bench/peers/*.ts: tasks made with create_task and
collected with gather, sleep(0) to yield, asyncio.Event / Queue / Lock / Semaphore,
asyncio.timeout / wait_for, TaskGroup and as_completed. The warm-up runs first, then the
measured size; the result is printed as one line "@@RESULT {json}".

gather's "foreign await" (a TypeScript thunk awaiting a native promise that is already
resolved) is, in Python, awaiting a Future that is already done: the one awaitable that is not
a task or a coroutine. Like the resolved promise it does not give the loop a turn; a coroutine
awaiting it continues at once.
"""
import asyncio
import gc
import json
import sys
import time
import tracemalloc

from common import completion_yields, loop_factory, print_result, soak_metrics, timer_delays_ms, timer_metrics


def now_ms():
    return time.perf_counter() * 1000.0


async def spawn(p):
    n = p["n"]

    async def job(i):
        await asyncio.sleep(0)
        return i

    t0 = now_ms()
    tasks = [asyncio.create_task(job(i)) for i in range(n)]
    await asyncio.gather(*tasks)
    return {"us_per_task": (now_ms() - t0) * 1000.0 / n}


async def memory(p):
    n = p["n"]
    event = asyncio.Event()

    async def waiter():
        await event.wait()

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    event.set()
    await asyncio.gather(*tasks)
    return {"bytes_per_task": (after - before) / n}


async def cancel(p):
    n = p["n"]
    event = asyncio.Event()

    async def waiter():
        await event.wait()

    tasks = [asyncio.create_task(waiter()) for _ in range(n)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    t0 = now_ms()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"us_per_task": (now_ms() - t0) * 1000.0 / n}


async def queue(p):
    n = p["n"]
    producers = p.get("producers", 1)
    consumers = p.get("consumers", 1)
    q = asyncio.Queue(p.get("size", 100))

    async def produce():
        for i in range(n // producers):
            await q.put(i)

    async def consume():
        for _ in range(n // consumers):
            await q.get()

    t0 = now_ms()
    tasks = [asyncio.create_task(produce()) for _ in range(producers)]
    tasks += [asyncio.create_task(consume()) for _ in range(consumers)]
    await asyncio.gather(*tasks)
    return {"items_per_s": n / ((now_ms() - t0) / 1000.0)}


async def locking(p, lock):
    tasks = p.get("tasks", 100)
    iterations = p.get("iterations", 1000)

    async def worker():
        for _ in range(iterations):
            async with lock:
                await asyncio.sleep(0)

    t0 = now_ms()
    await asyncio.gather(*[asyncio.create_task(worker()) for _ in range(tasks)])
    return {"acq_per_s": tasks * iterations / ((now_ms() - t0) / 1000.0)}


async def lock(p):
    return await locking(p, asyncio.Lock())


async def semaphore(p):
    return await locking(p, asyncio.Semaphore(p.get("size", 10)))


async def timers(p):
    n = p["n"]
    delays = timer_delays_ms(n, p.get("maxDelayMs", 100), p.get("seed", 1))
    late = [0.0] * n
    t0 = now_ms()

    async def sleeper(i):
        delay = delays[i]
        await asyncio.sleep(delay / 1000.0)
        late[i] = now_ms() - (t0 + delay)

    await asyncio.gather(*[asyncio.create_task(sleeper(i)) for i in range(n)])
    return timer_metrics(t0, now_ms(), delays, late)


async def body(i):
    return i


async def timeout(p):
    n = p["n"]
    total = 0
    t0 = now_ms()
    if p.get("variant") == "waitfor":
        for i in range(n):
            total += await asyncio.wait_for(body(i), 10)
    else:
        for i in range(n):
            async with asyncio.timeout(10):
                total += await body(i)
    assert total >= 0
    return {"us_per_scope": (now_ms() - t0) * 1000.0 / n}


def check_sum(total, n):
    if total != n * (n - 1) // 2:
        raise AssertionError(f"wrong sum {total}")


async def gather_workload(p):
    n = p["n"]
    loop = asyncio.get_running_loop()

    async def job(i):
        done = loop.create_future()
        done.set_result(None)
        await done
        return i

    t0 = now_ms()
    results = await asyncio.gather(*[job(i) for i in range(n)])
    us = (now_ms() - t0) * 1000.0 / n
    check_sum(sum(results), n)
    return {"us_per_task": us}


async def taskgroup(p):
    n = p["n"]
    finished = 0

    async def child():
        nonlocal finished
        await asyncio.sleep(0)
        finished += 1

    t0 = now_ms()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(child())
    us = (now_ms() - t0) * 1000.0 / n
    if finished != n:
        raise AssertionError(f"{finished} of {n} children done")
    return {"us_per_task": us}


async def ascompleted(p):
    n = p["n"]
    yields = completion_yields(n, p.get("maxYields", 8), p.get("seed", 1))

    async def job(i):
        for _ in range(yields[i]):
            await asyncio.sleep(0)
        return i

    t0 = now_ms()
    tasks = [asyncio.create_task(job(i)) for i in range(n)]
    total = 0
    for next_done in asyncio.as_completed(tasks):
        total += await next_done
    us = (now_ms() - t0) * 1000.0 / n
    check_sum(total, n)
    return {"us_per_task": us}


async def soak(p):
    """Tasks blocked on an Event, cancelled, gathered, batch after batch. The heap is
    tracemalloc's traced memory (Python's allocations only) after gc.collect()."""
    batch = max(1, min(p.get("batch", 1000), p["n"]))
    batches = max(2, 2 * round(p["n"] / batch / 2))
    event = asyncio.Event()

    async def waiter():
        await event.wait()

    def heap():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    gc.collect()
    tracemalloc.start()
    try:
        sizes = [heap()]
        busy = 0.0
        for _ in range(2):
            t0 = now_ms()
            for _ in range(batches // 2):
                tasks = [asyncio.create_task(waiter()) for _ in range(batch)]
                await asyncio.sleep(0)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            busy += now_ms() - t0
            sizes.append(heap())
    finally:
        tracemalloc.stop()
    return soak_metrics(sizes, batches * batch, busy)


WORKLOADS = {
    "spawn": spawn,
    "memory": memory,
    "cancel": cancel,
    "queue": queue,
    "lock": lock,
    "semaphore": semaphore,
    "timers": timers,
    "timeout": timeout,
    "gather": gather_workload,
    "taskgroup": taskgroup,
    "ascompleted": ascompleted,
    "soak": soak,
}


def average_runs(runs, rates):
    """Each metric's mean over the runs; a rate's harmonic mean (all the runs' work together)."""
    sums = {}
    for run in runs:
        for key, value in run.items():
            total, count = sums.get(key, (0.0, 0))
            sums[key] = (total + (1 / value if key in rates else value), count + 1)
    return {key: (count / total if key in rates else total / count) for key, (total, count) in sums.items()}


def main():
    if len(sys.argv) != 4:
        print_result({"status": "error", "reason": "usage: bench.py LOOP WORKLOAD JSON"})
        return
    kind, name, spec = sys.argv[1:]
    try:
        factory = loop_factory(kind)
    except ImportError as error:
        print_result({"status": "cannot", "reason": f"{kind} is not installed: {error}"})
        return
    workload = WORKLOADS.get(name)
    if workload is None:
        print_result({"status": "error", "reason": f"unknown workload {name}"})
        return
    spec = json.loads(spec)
    try:
        if spec.get("warmup") is not None:
            # The same warm-up as the Node worker's: again and again until warmupSeconds passed.
            until = time.perf_counter() + spec.get("warmupSeconds", 0)
            while True:
                with asyncio.Runner(loop_factory=factory) as runner:
                    runner.run(workload(spec["warmup"]))
                if time.perf_counter() >= until:
                    break
        # The measured program again and again until measureSeconds passed (at least once),
        # averaged as the Node worker does (bench/common.ts averageRuns).
        runs = []
        until = time.perf_counter() + spec.get("measureSeconds", 0)
        while True:
            with asyncio.Runner(loop_factory=factory) as runner:
                runs.append(runner.run(workload(spec["params"])))
            if time.perf_counter() >= until:
                break
        print_result({"status": "ok", "metrics": average_runs(runs, spec.get("rates", []))})
    except Exception as error:  # noqa: BLE001 - reported to the harness, not hidden
        print_result({"status": "error", "reason": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
