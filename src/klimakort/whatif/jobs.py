"""Background what-if runs with progress, for the API.

:class:`JobRegistry` runs jobs in a :class:`concurrent.futures.ThreadPoolExecutor` (one
worker by default: what-if runs are CPU-bound and share the area's memory) and keeps the
last :attr:`JobRegistry.keep` jobs. A job's function receives a ``progress(message)``
callable; its messages are kept, and ``percent`` rises with them against the expected
number of steps (100 when done).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from klimakort.errors import DataNotFoundError, KlimakortError, http_status_for

Progress = Callable[[str], None]


@dataclass
class Job:
    """One background run.

    Attributes
    ----------
    id : str
        Job id (URL-safe).
    status : str
        ``queued``, ``running``, ``done`` or ``failed``.
    messages : list of str
        Progress messages, oldest first.
    percent : float
        Progress estimate 0-100.
    result : Any
        The function's return value once done.
    error : dict or None
        ``{"status": HTTP status, "title": ..., "detail": ...}`` when failed.
    """

    id: str
    expected_steps: int
    label: str = ""
    status: str = "queued"
    messages: list[str] = field(default_factory=list)
    percent: float = 0.0
    result: Any = None
    error: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, message: str) -> None:
        """Record a step."""
        with self._lock:
            self.messages.append(message)
            self.percent = min(95.0, 100.0 * len(self.messages) / max(1, self.expected_steps))

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        with self._lock:
            return {
                "job_id": self.id,
                "label": self.label,
                "status": self.status,
                "percent": round(self.percent, 1),
                "messages": list(self.messages),
                "error": self.error,
                "created": self.created,
                "finished": self.finished,
            }


class JobRegistry:
    """Runs and remembers jobs.

    Parameters
    ----------
    max_workers : int
        Threads of the pool.
    keep : int
        Jobs remembered (oldest finished ones are forgotten first).
    """

    def __init__(self, max_workers: int = 1, keep: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="whatif")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._futures: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self.keep = keep

    def submit(
        self, fn: Callable[[Progress], Any], *, expected_steps: int = 20, label: str = ""
    ) -> Job:
        """Queue ``fn(progress)``; returns the job at once."""
        job = Job(uuid.uuid4().hex[:16], expected_steps, label)

        def run() -> Any:
            job.status = "running"
            try:
                job.result = fn(job.progress)
            except Exception as exc:
                job.error = {
                    "status": http_status_for(exc),
                    "title": exc.title if isinstance(exc, KlimakortError) else "Internal error",
                    "detail": str(exc),
                }
                job.status = "failed"
            else:
                job.percent = 100.0
                job.status = "done"
            finally:
                job.finished = time.time()
            return job.result

        with self._lock:
            self._jobs[job.id] = job
            self._forget()
            self._futures[job.id] = self._pool.submit(run)
        return job

    def _forget(self) -> None:
        done = [k for k, j in self._jobs.items() if j.status in ("done", "failed")]
        while len(self._jobs) > self.keep and done:
            key = done.pop(0)
            self._jobs.pop(key, None)
            self._futures.pop(key, None)

    def get(self, job_id: str) -> Job:
        """A job by id; DataNotFoundError when unknown (or forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise DataNotFoundError(
                f"no what-if job {job_id!r} (unknown, or forgotten after {self.keep} newer "
                "jobs); POST /whatif to start one"
            )
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until a job has finished (tests, CLI)."""
        self.get(job_id)
        fut = self._futures.get(job_id)
        if fut is not None:
            fut.result(timeout=timeout)
        return self.get(job_id)

    def shutdown(self) -> None:
        """Stop taking jobs; running ones finish (queued ones are cancelled)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
