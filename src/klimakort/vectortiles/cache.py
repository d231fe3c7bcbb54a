"""A thread-safe least-recently-used cache of encoded tiles, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class TileCache:
    """LRU cache of ``bytes`` values with a total size limit.

    Parameters
    ----------
    max_bytes : int
        Upper bound of the summed size of the cached values; 0 disables caching.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._data: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        """Store ``value``, evicting the least recently used values beyond the limit."""
        size = len(value) + 64  # count empty tiles too
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._size -= len(old) + 64
            self._data[key] = value
            self._size += size
            while self._size > self.max_bytes:
                _, dropped = self._data.popitem(last=False)
                self._size -= len(dropped) + 64

    def clear(self) -> None:
        """Drop every value."""
        with self._lock:
            self._data.clear()
            self._size = 0

    @property
    def nbytes(self) -> int:
        """Bytes accounted for (values plus a small overhead per entry)."""
        return self._size

    def __len__(self) -> int:
        return len(self._data)
