"""Progress reporting for long CLI steps (rich, to stderr)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from klimakort.hydro.timing import StageRecord, StageTimer

# no log path: a user wants the step and its time, not the line of this module
console = Console(stderr=True, log_path=False)


@contextmanager
def steps(title: str) -> Iterator[StageTimer]:
    """Show a spinner with the current step; print each finished step with its time.

    Yields a :class:`~klimakort.hydro.timing.StageTimer`: ``say(message)`` ends the
    running step and starts the next. Steps that a pipeline runs side by side on
    worker threads (``say.task``, as the rain-flow analysis does) are printed with
    their own durations, marked "in parallel", not with the time since the previous
    message, which overlapping steps would falsify.
    """
    from klimakort.hydro.timing import StageTimer

    start = time.perf_counter()
    with console.status(f"[bold]{title}[/]") as status:

        def started(message: str) -> None:
            status.update(f"[bold]{title}[/]: {message}")

        def finished(rec: StageRecord) -> None:
            where = "" if rec.thread == "MainThread" else ", in parallel"
            console.log(f"{rec.stage} [dim]({rec.seconds:.1f} s{where})[/]")

        timer = StageTimer(started, on_record=finished)
        yield timer
        timer.done()
    console.log(f"[green]{title} done[/] in {time.perf_counter() - start:.1f} s")
