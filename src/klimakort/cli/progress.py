"""Progress reporting for long CLI steps (rich, to stderr)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from klimakort.hydro.timing import StageRecord, StageTimer

# no log path: a user wants the step and its time, not the line of this module
console = Console(stderr=True, log_path=False)


@contextmanager
def steps(title: str) -> Iterator[Callable[[str], None]]:
    """Show a spinner with the current step; print each finished step with its time.

    Yields
    ------
    callable
        ``say(message)`` marks the start of a new step.
    """
    start = time.perf_counter()
    t_last = [start]
    m_last = [""]
    with console.status(f"[bold]{title}[/]") as status:

        def say(message: str) -> None:
            now = time.perf_counter()
            if m_last[0]:
                console.log(f"{m_last[0]} [dim]({now - t_last[0]:.1f} s)[/]")
            t_last[0], m_last[0] = now, message
            status.update(f"[bold]{title}[/]: {message}")

        yield say
        if m_last[0]:
            console.log(f"{m_last[0]} [dim]({time.perf_counter() - t_last[0]:.1f} s)[/]")
    console.log(f"[green]{title} done[/] in {time.perf_counter() - start:.1f} s")


@contextmanager
def timed_steps(title: str) -> Iterator[StageTimer]:
    """Like :func:`steps`, for stages that may overlap on worker threads.

    Yields a :class:`~klimakort.hydro.timing.StageTimer`: the spinner names the stage
    started last, and each finished stage is printed with its own duration (not the
    time since the previous message, which overlapping stages would falsify).
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
