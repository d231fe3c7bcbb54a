"""The stage timer: a progress callback that keeps a record of every stage."""

from __future__ import annotations

from klimakort.hydro.timing import StageTimer, as_timer, peak_rss_bytes


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
    assert timer.as_json()[0] == {
        "stage": "fill",
        "seconds": 1.5,
        "peak_rss_bytes": timer.records[0].peak_rss_bytes,
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
