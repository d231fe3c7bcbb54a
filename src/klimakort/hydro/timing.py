"""Stage timing of long pipelines: wall seconds and peak memory per stage.

A :class:`StageTimer` is a progress callback (``timer("message")`` starts a stage
and ends the previous one) that also keeps a structured record of every stage:
its name, wall seconds and the process's peak resident memory when it ended. The
rain-flow pipeline reports its stages through it (no prints inside kernels), the
CLI can save the record as JSON and ``benchmarks/pipeline.py`` prints it as the
stage table.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

Progress = Callable[[str], None]


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
    """

    stage: str
    seconds: float
    peak_rss_bytes: int


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
    """

    def __init__(
        self, progress: Progress | None = None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._progress = progress
        self._clock = clock
        self._current: str | None = None
        self._t0 = 0.0
        self.records: list[StageRecord] = []

    def __call__(self, message: str) -> None:
        """End the running stage (if any) and start ``message``."""
        self.done()
        self._current = message
        self._t0 = self._clock()
        if self._progress is not None:
            self._progress(message)

    def done(self) -> None:
        """End the running stage, if any."""
        if self._current is not None:
            self.records.append(
                StageRecord(self._current, self._clock() - self._t0, peak_rss_bytes())
            )
            self._current = None

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


def as_timer(progress: Progress | None) -> StageTimer:
    """``progress`` itself if it is a :class:`StageTimer`, else a timer that forwards to it."""
    return progress if isinstance(progress, StageTimer) else StageTimer(progress)
