"""Stage timing of long pipelines: wall seconds and peak memory per stage.

A :class:`StageTimer` is a progress callback (``timer("message")`` starts a stage
and ends the previous one) that also keeps a structured record of every stage:
its name, wall seconds and the process's peak resident memory when it ended. The
rain-flow pipeline reports its stages through it (no prints inside kernels), the
CLI can save the record as JSON and ``benchmarks/pipeline.py`` prints it as the
stage table.

Stages may also run side by side on worker threads: :meth:`StageTimer.task` (a
context manager) and :meth:`StageTimer.run` time one task from any thread. Every
record keeps its start (seconds after the timer's first stage) and its thread, so
that overlapping stages can be told apart and the wall they cover together computed
(:func:`covered_seconds`).
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import ParamSpec, TypeVar

Progress = Callable[[str], None]
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class StageRecord:
    """One finished stage.

    Attributes
    ----------
    stage : str
        Its name (the progress message).
    seconds : float
        Wall-clock duration.
    peak_rss_bytes : int
        The process's peak resident set size when the stage ended (``ru_maxrss``).
    start : float
        Seconds from the start of the timer's first stage to the start of this one.
    thread : str
        Name of the thread that ran it (``MainThread`` or a worker).
    """

    stage: str
    seconds: float
    peak_rss_bytes: int
    start: float = 0.0
    thread: str = "MainThread"


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


class StageTimer:
    """Progress callback that records the duration of every stage.

    Parameters
    ----------
    progress : callable, optional
        Also receives every message (e.g. the CLI spinner).
    clock : callable, optional
        Monotonic clock in seconds (tests inject a fake one).
    on_record : callable, optional
        Receives every finished :class:`StageRecord` (e.g. to print its true
        duration when stages overlap).

    Notes
    -----
    Calling the timer (``timer("stage")``) runs stages one after the other on the
    calling thread; :meth:`task` and :meth:`run` may be used from several threads at
    once. The record list and the callbacks are guarded by a lock.
    """

    def __init__(
        self,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.perf_counter,
        on_record: Callable[[StageRecord], None] | None = None,
    ) -> None:
        self._progress = progress
        self._clock = clock
        self._on_record = on_record
        self._current: str | None = None
        self._t0 = 0.0
        self._origin: float | None = None
        self._lock = threading.RLock()
        self.records: list[StageRecord] = []

    def _start(self, message: str) -> float:
        t0 = self._clock()
        with self._lock:
            if self._origin is None:
                self._origin = t0
            if self._progress is not None:
                self._progress(message)
        return t0

    def _finish(self, message: str, t0: float) -> None:
        t1 = self._clock()
        rec = StageRecord(
            message,
            t1 - t0,
            peak_rss_bytes(),
            t0 - (self._origin if self._origin is not None else t0),
            threading.current_thread().name,
        )
        with self._lock:
            self.records.append(rec)
            if self._on_record is not None:
                self._on_record(rec)

    def __call__(self, message: str) -> None:
        """End the running stage (if any) and start ``message``."""
        self.done()
        self._current = message
        self._t0 = self._start(message)

    def done(self) -> None:
        """End the running stage, if any."""
        if self._current is not None:
            message, self._current = self._current, None
            self._finish(message, self._t0)

    @contextmanager
    def task(self, message: str) -> Iterator[None]:
        """Time the block as stage ``message``; safe on any thread, may overlap others."""
        t0 = self._start(message)
        try:
            yield
        finally:
            self._finish(message, t0)

    def run(self, message: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` timed as the task ``message`` (for a thread pool)."""
        with self.task(message):
            return fn(*args, **kwargs)

    @contextmanager
    def stage(self, message: str) -> Iterator[None]:
        """Time the block as stage ``message``."""
        self(message)
        try:
            yield
        finally:
            self.done()

    @property
    def seconds(self) -> dict[str, float]:
        """Stage name -> seconds (repeated names are summed), in stage order."""
        out: dict[str, float] = {}
        for rec in self.records:
            out[rec.stage] = out.get(rec.stage, 0.0) + rec.seconds
        return out

    def as_json(self) -> list[dict[str, object]]:
        """The records as JSON-ready dicts."""
        return [asdict(r) for r in self.records]


def covered_seconds(records: list[StageRecord]) -> float:
    """Wall seconds covered by the union of the records' intervals (overlaps once)."""
    spans = sorted((r.start, r.start + r.seconds) for r in records)
    total = 0.0
    end = -float("inf")
    for a, b in spans:
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def as_timer(progress: Progress | None) -> StageTimer:
    """``progress`` itself if it is a :class:`StageTimer`, else a timer that forwards to it."""
    return progress if isinstance(progress, StageTimer) else StageTimer(progress)
