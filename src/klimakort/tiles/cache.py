"""A thread-safe LRU cache bounded by bytes, and per-key build locks."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """Least-recently-used mapping whose values' sizes add up to at most ``max_bytes``.

    Parameters
    ----------
    max_bytes : int
        Budget; 0 disables caching. A single value larger than the budget is not kept.
    size : callable
        Size of a value in bytes.
    """

    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        self.max_bytes = int(max_bytes)
        self._size = size
        self._data: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def get(self, key: Hashable) -> V | None:
        """The value of ``key`` (marked most recently used) or None."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``, evicting the least recently used entries beyond the budget."""
        n = int(self._size(value))
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if n > self.max_bytes:
                return
            self._data[key] = (value, n)
            self.nbytes += n
            while self.nbytes > self.max_bytes and self._data:
                _, (_, m) = self._data.popitem(last=False)
                self.nbytes -= m

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()
            self.nbytes = 0


class KeyedLocks:
    """One lock per key, so that concurrent requests build a value only once."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: Hashable) -> threading.Lock:
        """The lock of ``key`` (created on first use)."""
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock
