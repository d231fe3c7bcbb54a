"""The stage timer: a progress callback that keeps a record of every stage."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from klimakort.hydro.timing import (
    StageRecord,
    StageTimer,
    as_timer,
    covered_seconds,
    peak_rss_bytes,
)


def _clock(values: list[float]):
    it = iter(values)
    return lambda: next(it)


def test_records_each_stage_with_its_duration() -> None:
    seen: list[str] = []
    timer = StageTimer(seen.append, clock=_clock([0.0, 1.5, 1.5, 4.0]))
    timer("fill")
    timer("d8")
    timer.done()
    assert seen == ["fill", "d8"]
    assert [(r.stage, r.seconds) for r in timer.records] == [("fill", 1.5), ("d8", 2.5)]
    assert all(r.peak_rss_bytes > 0 for r in timer.records)
    assert timer.seconds == {"fill": 1.5, "d8": 2.5}
    assert timer.as_json()[1] == {
        "stage": "d8",
        "seconds": 2.5,
        "peak_rss_bytes": timer.records[1].peak_rss_bytes,
        "start": 1.5,
        "thread": "MainThread",
    }


def test_done_twice_and_repeated_names() -> None:
    timer = StageTimer(clock=_clock([0.0, 1.0, 1.0, 3.0]))
    with timer.stage("write"):
        pass
    timer.done()  # nothing running: no record
    with timer.stage("write"):
        pass
    assert len(timer.records) == 2
    assert timer.seconds == {"write": 3.0}


def test_as_timer_reuses_a_timer_and_wraps_a_callback() -> None:
    timer = StageTimer()
    assert as_timer(timer) is timer
    seen: list[str] = []
    wrapped = as_timer(seen.append)
    wrapped("x")
    assert seen == ["x"] and wrapped is not timer


def test_peak_rss_is_at_least_a_megabyte() -> None:
    assert peak_rss_bytes() > 2**20


def test_tasks_on_threads_keep_their_own_duration_start_and_thread() -> None:
    finished: list[str] = []
    timer = StageTimer(on_record=lambda r: finished.append(r.stage))
    go = threading.Event()

    def wait_for_main() -> str:
        assert go.wait(5)
        return "ok"

    with ThreadPoolExecutor(1, thread_name_prefix="worker") as pool:
        fut = pool.submit(timer.run, "d8", wait_for_main)
        with timer.task("labels"):
            go.set()
        assert fut.result() == "ok"
    recs = {r.stage: r for r in timer.records}
    assert recs["d8"].thread.startswith("worker") and recs["labels"].thread == "MainThread"
    assert sorted(finished) == ["d8", "labels"]
    assert all(r.start >= 0 and r.seconds >= 0 for r in timer.records)


def test_a_failing_task_is_still_recorded() -> None:
    timer = StageTimer()

    def boom() -> None:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        timer.run("bad", boom)
    assert [r.stage for r in timer.records] == ["bad"]


def _rec(start: float, seconds: float) -> StageRecord:
    return StageRecord("s", seconds, 1, start, "t")


def test_covered_seconds_counts_overlaps_once() -> None:
    assert covered_seconds([]) == 0.0
    assert covered_seconds([_rec(0, 2), _rec(1, 2), _rec(5, 1)]) == 4.0
    assert covered_seconds([_rec(0, 10), _rec(2, 3)]) == 10.0
