"""The cache of encoded vector tiles: the raster tiles' byte-bounded LRU, sized per tile."""

from __future__ import annotations

from klimakort.tiles.cache import ByteLRU

#: bytes counted per entry on top of the tile itself (so that empty tiles count too)
ENTRY_OVERHEAD = 64


def _size(value: bytes) -> int:
    return len(value) + ENTRY_OVERHEAD


class TileCache(ByteLRU[bytes]):
    """Thread-safe LRU cache of encoded tiles whose sizes add up to at most ``max_bytes``.

    Parameters
    ----------
    max_bytes : int
        Budget; 0 disables caching.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        super().__init__(max_bytes, _size)
